// The HTML report of a run: Client::report from a live client, and report_html's own limits
// (bars merged past max_bars, text from tasks escaped).
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using mpiply_test::run_client;

namespace {

// Items divisible by 3 fail.
int prog_thirds(int x) {
  if (x % 3 == 0) throw std::invalid_argument("multiple of three: " + std::to_string(x));
  return x + 1;
}

}  // namespace

MPIPLY_REGISTER(prog_thirds);

TEST_CASE("Client::report: one page with a bar per task that ran and every failed task listed",
          "[progress]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto ar = lv.map_async(prog_thirds, mpiply_test::iota_vec(30), {.chunksize = 1});
    ar.wait();
    c.direct_view().push({{"seen", 1}});
    std::string path = "test_progress_report_" + std::to_string(::getpid()) + ".html";
    c.report(path);
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string html = ss.str();
    std::remove(path.c_str());
    auto count = [&](const std::string& needle) {
      std::size_t n = 0;
      for (auto at = html.find(needle); at != std::string::npos; at = html.find(needle, at + 1)) ++n;
      return n;
    };
    std::size_t ran = 0, failed = 0;
    for (const auto& m : c.db_query(mpiply::Query())) {
      ran += m.started && m.completed && m.engine_id >= 0;
      failed += m.status == mpiply::TaskStatus::error;
    }
    CHECK(failed == 10);  // 0, 3, ..., 27
    CHECK(count("<rect class=\"bar") == ran);
    CHECK(count("<rect class=\"bar failed") == failed);
    CHECK(count("<tr class=\"failed-task\"") == failed);
    CHECK(html.find("multiple of three: 27") != std::string::npos);
    CHECK(html.find(">push</span>") != std::string::npos);  // the legend names the push
    // Self-contained: nothing is fetched.
    CHECK(html.find("http://") == std::string::npos);
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("<script src") == std::string::npos);
    CHECK_THROWS_WITH(c.report("/nonexistent-dir/r.html"),
                      Catch::Matchers::Contains("/nonexistent-dir/r.html"));
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("report_html: close bars merge only past max_bars; text from tasks is escaped",
          "[progress]") {
  // 40 back-to-back tasks of one function on one lane, 1 ms each; task 5 failed with an error
  // text that is markup.
  std::vector<mpiply::TaskMetadata> tasks;
  auto t0 = mpiply::WallClock::now();
  for (int i = 0; i < 40; ++i) {
    mpiply::TaskMetadata m;
    m.msg_id = static_cast<mpiply::MsgId>(i);
    m.engine_id = 0;
    m.function = "f<x>";
    m.status = i == 5 ? mpiply::TaskStatus::error : mpiply::TaskStatus::ok;
    if (i == 5) m.error = "ValueError: <script>alert(1)</script>";
    m.submitted = t0;
    m.started = t0 + std::chrono::milliseconds(i);
    m.completed = t0 + std::chrono::milliseconds(i + 1);
    m.received = m.completed;
    m.items = 1;
    tasks.push_back(m);
  }
  auto count = [](const std::string& html, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = html.find(needle); at != std::string::npos; at = html.find(needle, at + 1)) ++n;
    return n;
  };
  std::string all = mpiply::report_html(tasks);
  CHECK(count(all, "<rect class=\"bar") == 40);
  CHECK(all.find("<script>alert") == std::string::npos);
  CHECK(all.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(all.find("f&lt;x&gt;") != std::string::npos);
  mpiply::ReportOptions o;
  o.max_bars = 10;
  std::string merged = mpiply::report_html(tasks, o);
  // The failed task keeps a bar of its own: merging joins only tasks of the same outcome.
  std::size_t bars = count(merged, "<rect class=\"bar");
  CHECK(bars == 3);
  CHECK(count(merged, "<rect class=\"bar failed") == 1);
  CHECK(merged.find("40 tasks drawn as 3 bars") != std::string::npos);
}
