// What a person watching a job sees: wait_interactive's progress lines (plain lines to a file, a
// redrawing line on a terminal), get(return_exceptions), summary() and the Chrome-trace
// timeline file read back with a JSON parser.
#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using namespace std::chrono_literals;
using mpiply_test::run_client;

namespace {

double prog_sleep(double s) {
  std::this_thread::sleep_for(mpiply::Seconds(s));
  return s;
}

int prog_square(int x) { return x * x; }

// Items divisible by 3 fail.
int prog_thirds(int x) {
  if (x % 3 == 0) throw std::invalid_argument("multiple of three: " + std::to_string(x));
  return x + 1;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string slurp(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  return s;
}

bool has_control_chars(const std::string& s) {
  for (char c : s)
    if (c == '\r' || c == '\x1b') return true;
  return false;
}

}  // namespace

MPIPLY_REGISTER(prog_sleep);
MPIPLY_REGISTER(prog_square);
MPIPLY_REGISTER(prog_thirds);

TEST_CASE("progress_line: items, percent, rate, elapsed, ETA; no control characters",
          "[progress]") {
  std::string l = mpiply::progress_line(25, 100, 5.0);
  CHECK(l.find("25/100 items") != std::string::npos);
  CHECK(l.find("(25.0%)") != std::string::npos);
  CHECK(l.find("5.0 items/s") != std::string::npos);
  CHECK(l.find("elapsed 5.0s") != std::string::npos);
  CHECK(l.find("ETA 15.0s") != std::string::npos);  // 75 left at 5/s
  CHECK_FALSE(has_control_chars(l));
  // Nothing done yet: no rate, so no ETA; long durations in m:ss.
  CHECK(mpiply::progress_line(0, 10, 1.0).find("ETA ?") != std::string::npos);
  CHECK(mpiply::progress_line(1, 2, 125.0).find("elapsed 2:05") != std::string::npos);
  // The rate counts items done since the start of the watch.
  CHECK(mpiply::progress_line(60, 100, 2.0, 40).find("10.0 items/s") != std::string::npos);
  CHECK(mpiply::progress_line(100, 100, 2.0).find("(100.0%)") != std::string::npos);
  // On a terminal: back to the line's start, the line, erase the rest.
  CHECK(mpiply::progress_redraw("abc") == "\rabc\x1b[K");
}

// Display columns of UTF-8 text (each block character is one column).
std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

TEST_CASE("progress_bar: tqdm's layout, as wide as asked, no control characters", "[progress]") {
  std::string b = mpiply::progress_bar(25, 100, 5.0, 0, 80, ", 2 failed");
  INFO(b);
  CHECK(b.rfind(" 25%|", 0) == 0);
  CHECK(b.find("| 25/100 [00:05<00:15, 5.0 items/s, 2 failed]") != std::string::npos);
  CHECK(columns(b) == 80);
  CHECK(!has_control_chars(b));
  // A quarter of the cells are full blocks; 37.5% of the narrowest bar (10 cells) is three full
  // blocks and three quarters of one.
  std::string bar = b.substr(5, b.find("| 25/100") - 5);
  std::size_t cells = columns(bar), blocks = 0;
  for (std::size_t at = 0; (at = bar.find("█", at)) != std::string::npos; at += 3) ++blocks;
  CHECK(blocks == cells / 4);
  CHECK(mpiply::progress_bar(3, 8, 1.0, 0, 0).find("|███▊      |") != std::string::npos);
  std::string full = mpiply::progress_bar(10, 10, 3725.0, 0, 60);
  CHECK(full.rfind("100%|██████████", 0) == 0);
  CHECK(full.find("[1:02:05<00:00,") != std::string::npos);
  CHECK(columns(full) == 60);
  CHECK(mpiply::progress_bar(0, 10, 1.0).find("<?, 0.0 items/s]") != std::string::npos);
}

TEST_CASE("wait_interactive to a file: one plain line per interval, the last shows every item",
          "[progress]") {
  int rc = run_client([](mpiply::Client& c) {
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    // 40 items in chunks of 4: progress counts items, not the 10 messages.
    std::vector<double> ts(40, 0.01);
    auto ar = c.load_balanced_view().map_async(prog_sleep, ts, {.chunksize = 4});
    CHECK(ar.wait_interactive(0.02s, std::nullopt, f));
    auto text = slurp(f);
    std::fclose(f);
    CHECK_FALSE(has_control_chars(text));
    auto lines = lines_of(text);
    REQUIRE(!lines.empty());
    CHECK(lines.back().rfind("40/40 items (100.0%)", 0) == 0);
    for (const auto& l : lines) CHECK(l.find("/40 items") != std::string::npos);
    // With engines the map takes at least 0.4 s / engines, far more than one 20 ms interval.
    if (!c.inline_mode() && c.size() <= 3) CHECK(lines.size() >= 2);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("wait_interactive returns false on timeout and the result still arrives",
          "[progress]") {
  int rc = run_client([](mpiply::Client& c) {
    if (c.inline_mode()) return 0;  // tasks run at submission: nothing is pending
    std::FILE* f = std::tmpfile();
    auto ar = c.load_balanced_view().apply_async(prog_sleep, 1.0);
    CHECK_FALSE(ar.wait_interactive(0.01s, 0.05s, f));
    auto lines = lines_of(slurp(f));
    std::fclose(f);
    REQUIRE(!lines.empty());
    CHECK(lines.back().rfind("0/1 items", 0) == 0);
    CHECK(ar.get() == 1.0);
    CHECK_THROWS_AS(ar.wait_interactive(0s), mpiply::UsageError);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("Client::wait_interactive counts the items of every task (10^4 items, chunksize 100)",
          "[progress]") {
  int rc = run_client([](mpiply::Client& c) {
    std::FILE* f = std::tmpfile();
    auto ar = c.load_balanced_view().map_async(prog_square, mpiply_test::iota_vec(10000),
                                               {.chunksize = 100});
    CHECK(c.wait_interactive(0.05s, std::nullopt, f));
    auto lines = lines_of(slurp(f));
    std::fclose(f);
    REQUIRE(!lines.empty());
    CHECK(lines.back().rfind("10000/10000 items", 0) == 0);
    CHECK(ar.get()[9999] == 9999 * 9999);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("wait_interactive on a terminal redraws one line", "[progress]") {
  int rc = run_client([](mpiply::Client& c) {
    int master = -1, slave = -1;
    REQUIRE(openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
    std::FILE* tty = fdopen(slave, "w");
    REQUIRE(tty);
    std::vector<double> ts(6, 0.02);
    auto ar = c.load_balanced_view().map_async(prog_sleep, ts);
    CHECK(ar.wait_interactive(0.01s, std::nullopt, tty));
    std::fclose(tty);  // closes slave
    std::string out;
    char buf[4096];
    // The terminal passes the bytes on asynchronously: read until the final newline (bounded).
    pollfd p{master, POLLIN, 0};
    while (out.find('\n') == std::string::npos && ::poll(&p, 1, 10000) > 0) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(master);
    // tqdm's bar, not the plain line of a log.
    CHECK(out.find("\r100%|") != std::string::npos);
    CHECK(out.find("| 6/6 [") != std::string::npos);
    CHECK(out.find("items (") == std::string::npos);
    CHECK(out.find("\x1b[K") != std::string::npos);
    // One line in all: the only newline ends the final redraw (the terminal may add \r to it).
    std::size_t newlines = 0;
    for (char ch : out) newlines += ch == '\n';
    CHECK(newlines == 1);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("MPIPLY_PROGRESS forces plain lines or redraws, whatever the stream", "[progress]") {
  int rc = run_client([](mpiply::Client& c) {
    mpiply_test::RestoreEnv keep("MPIPLY_PROGRESS");
    auto ar = c.load_balanced_view().map_async(prog_square, mpiply_test::iota_vec(5));
    ar.wait();
    setenv("MPIPLY_PROGRESS", "redraw", 1);
    std::FILE* f = std::tmpfile();
    CHECK(ar.wait_interactive(0.01s, std::nullopt, f));
    std::string text = slurp(f);
    std::fclose(f);
    CHECK(text.rfind("\r100%|", 0) == 0);
    CHECK(text.find("| 5/5 [") != std::string::npos);
    CHECK(text.find("\x1b[K\n") != std::string::npos);

    int master = -1, slave = -1;
    REQUIRE(openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
    std::FILE* tty = fdopen(slave, "w");
    setenv("MPIPLY_PROGRESS", "lines", 1);
    CHECK(ar.wait_interactive(0.01s, std::nullopt, tty));
    std::fclose(tty);
    std::string out;
    char buf[1024];
    pollfd p{master, POLLIN, 0};
    while (out.find('\n') == std::string::npos && ::poll(&p, 1, 10000) > 0) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(master);
    CHECK(out.rfind("5/5 items", 0) == 0);
    CHECK(out.find('\x1b') == std::string::npos);

    setenv("MPIPLY_PROGRESS", "sometimes", 1);
    CHECK_THROWS_AS(ar.wait_interactive(0.01s), mpiply::UsageError);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("get(return_exceptions) gives every item's value or its error", "[progress]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto ar = lv.map_async(prog_thirds, mpiply_test::iota_vec(30), {.chunksize = 4});
    CHECK_THROWS_AS(ar.get(), mpiply::CompositeError);  // the plain get still raises
    std::vector<mpiply::Outcome<int>> out = ar.get(mpiply::return_exceptions);
    REQUIRE(out.size() == 30);
    for (int i = 0; i < 30; ++i) {
      const auto& o = out[static_cast<std::size_t>(i)];
      if (i % 3 == 0) {
        REQUIRE_FALSE(o.ok());
        CHECK(o.error().ename() == "std::invalid_argument");
        CHECK(o.error().evalue() == "multiple of three: " + std::to_string(i));
        CHECK(o.error().function() == "prog_thirds");
        CHECK_THROWS_AS(o.value(), mpiply::RemoteError);
      } else {
        REQUIRE(o.ok());
        CHECK(*o == i + 1);
        CHECK_THROWS_AS(o.error(), mpiply::UsageError);
      }
    }
    // One task: a single Outcome.
    auto bad = lv.apply_async(prog_thirds, 3).get(mpiply::return_exceptions);
    CHECK_FALSE(bad.ok());
    CHECK(bad.error().evalue() == "multiple of three: 3");
    auto good = lv.apply_async(prog_thirds, 4).get(mpiply::return_exceptions);
    CHECK(good.value() == 5);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("summary: per-engine counts and busy time agree with the metadata", "[progress]") {
  int rc = run_client([](mpiply::Client& c) {
    std::vector<double> ts;
    for (int i = 0; i < 24; ++i) ts.push_back(0.002 * (i % 5));
    auto ar = c.load_balanced_view().map_async(prog_sleep, ts, {.chunksize = 2});
    ar.get();
    auto md = ar.metadata();
    auto s = ar.summary(3);
    CHECK(s.tasks == md.size());
    CHECK(s.tasks == 12);
    CHECK(s.items == 24);
    CHECK(s.finished == 12);
    CHECK(s.failed == 0);
    CHECK(s.serial_seconds == Approx(ar.serial_time()).margin(1e-9));
    CHECK(s.wall_seconds == Approx(ar.wall_time()).margin(1e-9));
    std::size_t tasks = 0, items = 0;
    double busy = 0, work = 0;
    for (const auto& e : s.engines) {
      tasks += e.tasks;
      items += e.items;
      busy += e.busy_seconds;
      work += e.work_share;
      std::size_t mine = 0;
      for (const auto& m : md) mine += m.engine_id == e.engine_id;
      CHECK(e.tasks == mine);
      CHECK(e.busy_share >= 0);
    }
    CHECK(tasks == 12);
    CHECK(items == 24);
    CHECK(busy == Approx(s.serial_seconds));
    CHECK(work == Approx(1.0));
    REQUIRE(s.slowest.size() == 3);
    auto span = [](const mpiply::TaskMetadata& m) { return *m.completed - *m.started; };
    CHECK(span(s.slowest[0]) >= span(s.slowest[1]));
    CHECK(span(s.slowest[1]) >= span(s.slowest[2]));
    for (const auto& m : md) CHECK(span(m) <= span(s.slowest[0]));
    auto text = s.to_string();
    CHECK(text.find("12 tasks (24 items)") != std::string::npos);
    CHECK(text.find("slowest tasks:") != std::string::npos);
    // The client's summary covers this map too.
    CHECK(c.summary().tasks >= 12);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("write_timeline: Chrome trace JSON with one complete event per task", "[progress]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto ar = lv.map_async(prog_thirds, mpiply_test::iota_vec(20), {.chunksize = 2});
    ar.wait();
    std::string path = "test_progress_timeline_" + std::to_string(::getpid()) + ".json";
    ar.write_timeline(path);
    nlohmann::json doc;
    {
      std::ifstream in(path);
      REQUIRE(in);
      in >> doc;  // throws if the file is not JSON
    }
    std::remove(path.c_str());
    auto md = ar.metadata();
    std::set<std::uint64_t> ids;
    for (const auto& m : md) ids.insert(m.msg_id);
    std::size_t complete = 0, instants = 0;
    for (const auto& ev : doc.at("traceEvents")) {
      std::string ph = ev.at("ph");
      if (ph == "i") ++instants;
      if (ph != "X") continue;
      ++complete;
      auto id = ev.at("args").at("msg_id").get<std::uint64_t>();
      CHECK(ids.erase(id) == 1);  // each task once
      const mpiply::TaskMetadata* m = nullptr;
      for (const auto& x : md)
        if (x.msg_id == id) m = &x;
      REQUIRE(m);
      CHECK(ev.at("pid").get<int>() == m->engine_id);
      CHECK(ev.at("name") == "prog_thirds");
      CHECK(ev.at("args").at("status") == mpiply::to_string(m->status));
      CHECK(ev.at("dur").get<double>() >= 0);
      CHECK(ev.at("ts").get<double>() >= 0);
    }
    CHECK(complete == md.size());
    CHECK(ids.empty());
    CHECK(instants == 2 * md.size());  // submitted and received of each
    // The client's file has every task so far, this map's included.
    c.write_timeline(path);
    std::ifstream in(path);
    auto all = nlohmann::json::parse(in);
    std::size_t n = 0;
    for (const auto& ev : all.at("traceEvents")) n += ev.at("ph") == "X";
    CHECK(n >= md.size());
    std::remove(path.c_str());
    CHECK_THROWS_AS(ar.write_timeline("/nonexistent-dir/x.json"), mpiply::Error);
    return 0;
  });
  REQUIRE(rc == 0);
}
