// pull_into / gather_into: engines' vectors written straight into the caller's memory. Round
// trips of a megabyte and more (a payload message on engine ranks) and of small vectors (inside
// the result), byte for byte; several targets; values pushed, decoded by a task, or set by one;
// a wrong size, type or name fails that target only, leaves its span untouched and loses
// nothing on the engine; such tasks keep their metadata and history, get_result says where the
// value went; other results around them are unaffected; large plain pulls the hub keeps stay
// intact. At 1 rank the inline engine serves.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

char arg0[] = "test_pull_into";
char* argv[] = {arg0, nullptr};

// Distinct, non-integral values per engine and size, so a shifted or stale block shows.
std::vector<double> pattern(std::size_t n, double salt) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = double(i) * 1.0000001 - salt;
  return v;
}

// A vector set on the engine by a task (held as the object, not as pushed bytes).
void make_on_engine(std::int64_t n) {
  auto& eng = mpiply::this_engine();
  eng.set("made", pattern(static_cast<std::size_t>(n), 100.0 + eng.id()));
}
// Reads "x" as a task would, so the engine holds it decoded rather than as pushed bytes.
std::int64_t size_of_x() {
  return std::int64_t(mpiply::this_engine().get<std::vector<double>>("x").size());
}
std::int64_t twice(std::int64_t x) { return 2 * x; }

}  // namespace

MPIPLY_REGISTER(make_on_engine);
MPIPLY_REGISTER(size_of_x);
MPIPLY_REGISTER(twice);

namespace {

long first_mismatch(std::span<const double> got, const std::vector<double>& want) {
  if (got.size() != want.size()) return long(std::min(got.size(), want.size()));
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i]) return long(i);
  return -1;
}

// The RemoteErrors a failing call raised: one (RemoteError) or several (CompositeError).
template <class F>
std::vector<std::string> failures(F&& f) {
  std::vector<std::string> out;
  try {
    f();
  } catch (const mpiply::CompositeError& e) {
    for (const auto& item : e.errors()) out.push_back(item.error.what());
  } catch (const mpiply::RemoteError& e) {
    out.push_back(e.what());
  }
  return out;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// 1 MiB, a size that is not a whole number of pages, and a small one (inside the result).
const std::size_t kSizes[] = {std::size_t(1) << 17, (std::size_t(3) << 17) + 11, 100};

}  // namespace

TEST_CASE("pull_into writes each engine's vector into the caller's span", "[pull_into]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    for (std::size_t n : kSizes) {
      INFO("n = " << n);
      for (int e : dv.targets()) c[e].push({{"x", pattern(n, e)}});
      // One engine at a time, into a warm buffer reused.
      std::vector<double> buf(n, -1.0);
      for (int e : dv.targets()) {
        INFO("engine " << e);
        c[e].pull_into("x", buf);
        CHECK(first_mismatch(buf, pattern(n, e)) == -1);
      }
      // Every target at once, each into its own span of one array.
      std::vector<double> all(n * dv.size(), -1.0);
      std::vector<std::span<double>> spans;
      for (std::size_t t = 0; t < dv.size(); ++t) spans.emplace_back(all.data() + t * n, n);
      dv.pull_into("x", spans);
      for (std::size_t t = 0; t < dv.size(); ++t)
        CHECK(first_mismatch(spans[t], pattern(n, dv.targets()[t])) == -1);
      // Decoded on the engine by a task, then pulled again: the same bytes.
      CHECK(dv.apply(size_of_x) == std::vector<std::int64_t>(dv.size(), std::int64_t(n)));
      std::fill(buf.begin(), buf.end(), -1.0);
      c[0].pull_into("x", buf);
      CHECK(first_mismatch(buf, pattern(n, 0)) == -1);
      // Set by a task.
      dv.apply(make_on_engine, std::int64_t(n));
      for (int e : dv.targets()) {
        std::fill(buf.begin(), buf.end(), -1.0);
        c[e].pull_into("made", buf);
        CHECK(first_mismatch(buf, pattern(n, 100.0 + e)) == -1);
      }
    }
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("gather_into joins scattered blocks in target order", "[pull_into]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    for (auto& dv : mpiply_test::all_and_reversed_views(c)) {
      for (std::size_t n : {(std::size_t(1) << 18) + 3, std::size_t(7), std::size_t(0)}) {
        INFO("targets " << dv.size() << ", n " << n);
        auto data = pattern(n, 0.5);
        dv.scatter("s", data);
        std::vector<double> out(n, -1.0);
        dv.gather_into("s", out);
        CHECK(first_mismatch(out, data) == -1);
      }
      // Flattened one-item blocks (lone doubles on the engines).
      auto one_each = pattern(dv.size(), 2.0);
      dv.scatter("f", one_each, /*flatten=*/true);
      std::vector<double> out(dv.size(), -1.0);
      dv.gather_into("f", out);
      CHECK(first_mismatch(out, one_each) == -1);
    }
    c.direct_view().clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a wrong size, type or name fails, leaves the span untouched and loses nothing",
          "[pull_into]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    const std::size_t n = std::size_t(1) << 17;
    for (int e : dv.targets()) c[e].push({{"x", pattern(n, e)}});
    // One element short, and one too many, for the big (payload) and small (inline) cases.
    for (std::size_t want : {n - 1, n + 1, std::size_t(5)}) {
      INFO("span of " << want);
      std::vector<double> buf(want, -7.0);
      auto errs = failures([&] { c[0].pull_into("x", buf); });
      REQUIRE(errs.size() == 1);
      CHECK(contains(errs[0], "pull_into('x')"));
      CHECK(contains(errs[0], "engine 0 holds " + std::to_string(n) + " double"));
      CHECK(contains(errs[0], "has " + std::to_string(want) + " elements"));
      CHECK(contains(errs[0], "nothing was written"));
      CHECK(std::all_of(buf.begin(), buf.end(), [](double v) { return v == -7.0; }));
    }
    // The value is still there, and the right size works at once.
    std::vector<double> ok(n, -1.0);
    c[0].pull_into("x", ok);
    CHECK(first_mismatch(ok, pattern(n, 0)) == -1);
    // Another element type: the engine names both types; the span is untouched.
    std::vector<float> fbuf(n, -3.0f);
    auto errs = failures([&] { c[0].pull_into("x", fbuf); });
    REQUIRE(errs.size() == 1);
    CHECK(contains(errs[0], "'x' holds a std::vector<double"));
    CHECK(std::all_of(fbuf.begin(), fbuf.end(), [](float v) { return v == -3.0f; }));
    // A missing name.
    errs = failures([&] { c[0].pull_into("nope", ok); });
    REQUIRE(errs.size() == 1);
    CHECK(contains(errs[0], "nope"));
    // Several targets, one wrong: the others are filled, the wrong one untouched.
    if (dv.size() >= 2) {
      std::vector<double> a(n, -1.0), b(n + 4, -9.0);
      std::vector<std::span<double>> spans(dv.size(), std::span<double>(a));
      std::vector<std::vector<double>> others(dv.size(), std::vector<double>(n, -1.0));
      for (std::size_t t = 0; t < dv.size(); ++t) spans[t] = others[t];
      spans[1] = b;
      errs = failures([&] { dv.pull_into("x", spans); });
      REQUIRE(errs.size() == 1);
      CHECK(contains(errs[0], "engine " + std::to_string(dv.targets()[1])));
      CHECK(std::all_of(b.begin(), b.end(), [](double v) { return v == -9.0; }));
      for (std::size_t t = 0; t < dv.size(); ++t)
        if (t != 1) CHECK(first_mismatch(others[t], pattern(n, dv.targets()[t])) == -1);
    }
    // gather_into with a span whose shares do not match the blocks.
    dv.scatter("s", pattern(n, 0.25));
    std::vector<double> g(n + dv.size(), -5.0);
    errs = failures([&] { dv.gather_into("s", g); });
    CHECK(errs.size() == dv.size());
    for (const auto& e : errs) CHECK(contains(e, "gather_into('s')"));
    CHECK(std::all_of(g.begin(), g.end(), [](double v) { return v == -5.0; }));
    // One span per target is required.
    std::vector<std::span<double>> none;
    CHECK_THROWS_AS(dv.pull_into("x", none), mpiply::UsageError);
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("pull_into tasks keep metadata and history; other results are unaffected",
          "[pull_into]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    const std::size_t n = std::size_t(1) << 17;
    for (int e : dv.targets()) c[e].push({{"x", pattern(n, e)}});
    auto lb = c.load_balanced_view();
    std::vector<std::int64_t> xs(2000);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = std::int64_t(i);
    // Results in flight on every engine while the pulls come back.
    auto before = lb.map_async(twice, xs);
    auto one = c[0].apply_async(twice, std::int64_t(21));
    std::vector<double> buf(n, -1.0);
    c[0].pull_into("x", buf);
    mpiply::MsgId pulled = c.history().back();
    auto after = lb.map_async(twice, xs);
    CHECK(first_mismatch(buf, pattern(n, 0)) == -1);
    auto b = before.get(), a = after.get();
    for (std::size_t i = 0; i < xs.size(); ++i) {
      REQUIRE(b[i] == 2 * xs[i]);
      REQUIRE(a[i] == 2 * xs[i]);
    }
    CHECK(one.get() == 42);
    // The task is in the history and the hub with its metadata; its value is not kept.
    auto hist = c.history();
    CHECK(std::find(hist.begin(), hist.end(), pulled) != hist.end());
    auto md = c.metadata(pulled);
    CHECK(md.status == mpiply::TaskStatus::ok);
    CHECK(md.engine_id == 0);
    auto hub = c.get_result<mpiply::None>(pulled);
    auto errs = failures([&] { hub.get(); });
    REQUIRE(errs.size() == 1);
    CHECK(contains(errs[0], "written into the caller's memory"));
    // A failed pull_into is recorded as failed.
    std::vector<double> small(3);
    failures([&] { c[0].pull_into("x", small); });
    CHECK(c.metadata(c.history().back()).status == mpiply::TaskStatus::error);
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

// The hub keeps a large plain pull by taking the buffer it arrived in (result_store.hpp,
// adopt): the kept value must stay intact while later large results arrive.
TEST_CASE("large pulled values kept by the hub stay intact after later large results",
          "[pull_into]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    const std::size_t n = (std::size_t(1) << 18) + 5;  // 2 MiB and a bit
    auto e0 = c[0];
    e0.push({{"x", pattern(n, 1.0)}, {"y", pattern(n, 2.0)}, {"z", pattern(n, 3.0)}});
    CHECK(first_mismatch(e0.pull<std::vector<double>>("x"), pattern(n, 1.0)) == -1);
    mpiply::MsgId px = c.history().back();
    CHECK(first_mismatch(e0.pull<std::vector<double>>("y"), pattern(n, 2.0)) == -1);
    mpiply::MsgId py = c.history().back();
    // A third large result, received into the inbox's next buffer.
    CHECK(first_mismatch(e0.pull<std::vector<double>>("z"), pattern(n, 3.0)) == -1);
    auto kept_x = c.get_result<std::vector<double>>(px).get();
    auto kept_y = c.get_result<std::vector<double>>(py).get();
    REQUIRE(kept_x.size() == 1);
    REQUIRE(kept_y.size() == 1);
    CHECK(first_mismatch(kept_x[0], pattern(n, 1.0)) == -1);
    CHECK(first_mismatch(kept_y[0], pattern(n, 2.0)) == -1);
    CHECK(c.results_bytes() >= 2 * n * sizeof(double));
    c.purge_results(mpiply::all);
    CHECK(c.results_bytes() < n * sizeof(double));
    e0.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}
