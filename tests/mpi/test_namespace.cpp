// The engines' namespaces: push/pull, view["a"], scatter/gather with ipyparallel's partitioning,
// clear, tasks reading and writing their engine's values, errors that name the engine and the
// name, and large arrays (megabytes per engine) through the segment path, from lvalues and from
// temporaries, every element checked.
#include <algorithm>
#include <cstddef>
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

char arg0[] = "test_namespace";
char* argv[] = {arg0, nullptr};

// Reads the pushed "data" once per call: the pattern of loading an input once per engine and
// mapping over indices into it.
double data_at(int i) {
  const auto& data = mpiply::this_engine().get<std::vector<double>>("data");
  return data.at(static_cast<std::size_t>(i));
}
// Writes a value into the running engine's namespace for a later pull.
void store_scaled(int x) { mpiply::this_engine().set("scaled", x * mpiply::this_engine().id() + 7); }
int my_id() { return mpiply::this_engine().id(); }

}  // namespace

MPIPLY_REGISTER(data_at);
MPIPLY_REGISTER(store_scaled);
MPIPLY_REGISTER(my_id);

namespace {

using mpiply_test::iota_vec;
constexpr mpiply::Seconds kBound{120};

// Distinct, non-integral values, so a block shifted, truncated or read from freed memory shows.
std::vector<double> pattern(std::size_t n, double salt) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = double(i) * 1.0000001 - salt;
  return v;
}
// Index of the first element that differs (or the shorter size); -1 when equal. Comparing this
// instead of the vectors keeps a failure's message short.
long first_mismatch(const std::vector<double>& got, const std::vector<double>& want) {
  std::size_t n = std::min(got.size(), want.size());
  for (std::size_t i = 0; i < n; ++i)
    if (got[i] != want[i]) return long(i);
  return got.size() == want.size() ? -1 : long(n);
}
// Every target's copy of name equals want, element for element.
void check_pulled(mpiply::DirectView& dv, const std::string& name, const std::vector<double>& want) {
  auto back = dv.pull<std::vector<double>>(name);
  REQUIRE(back.size() == dv.targets().size());
  for (std::size_t t = 0; t < back.size(); ++t) {
    INFO("name " << name << ", target " << dv.targets()[t]);
    CHECK(first_mismatch(back[t], want) == -1);
  }
}

// A failed pull on a DirectView raises one failure per target (CompositeError), or a bare
// RemoteError; either way every failure must name its engine and the name asked for.
template <class F>
void check_names_engine_and_name(F&& pull, const std::vector<int>& targets, const std::string& name) {
  bool threw = false;
  auto check_one = [&](const mpiply::RemoteError& e) {
    std::string what = e.what();
    CHECK(what.find("'" + name + "'") != std::string::npos);
    CHECK(what.find("engine " + std::to_string(e.engine_id())) != std::string::npos);
    CHECK(std::find(targets.begin(), targets.end(), e.engine_id()) != targets.end());
  };
  try {
    pull();
  } catch (const mpiply::CompositeError& e) {
    threw = true;
    CHECK(e.errors().size() == targets.size());
    for (const auto& item : e.errors()) check_one(item.error);
  } catch (const mpiply::RemoteError& e) {
    threw = true;
    check_one(e);
  }
  CHECK(threw);
}

}  // namespace

TEST_CASE("push and pull, by call and by name", "[namespace]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    const std::size_t n = dv.targets().size();
    dv.push({{"a", 1}, {"s", std::string("x")}});
    CHECK(dv.pull<int>("a") == std::vector<int>(n, 1));
    CHECK(dv.pull<std::string>("s") == std::vector<std::string>(n, "x"));
    dv["a"] = 5;
    CHECK(dv["a"].get<int>() == std::vector<int>(n, 5));
    CHECK(dv.pull<int>("a") == std::vector<int>(n, 5));
    // One engine: single values.
    auto e0 = c[0];
    e0["a"] = 9;
    CHECK(e0.pull<int>("a") == 9);
    if (n >= 2) CHECK(c[1].pull<int>("a") == 5);  // the other engines kept theirs
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("scatter and gather round-trip with ipyparallel's partitioning", "[namespace]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto views = mpiply_test::all_and_reversed_views(c);
    for (auto& dv : views) {
      const auto& targets = dv.targets();
      for (int n : {0, 1, 5, 7, 10}) {
        INFO("targets=" << targets.size() << " n=" << n);
        auto xs = iota_vec(n);
        dv.scatter("x", xs);
        CHECK(dv.gather<int>("x") == xs);
        // Blocks in target order, contiguous, larger first, sizes differing by at most one.
        auto blocks = dv.pull<std::vector<int>>("x");
        REQUIRE(blocks.size() == targets.size());
        std::size_t at = 0, base = std::size_t(n) / targets.size(),
                    extra = std::size_t(n) % targets.size();
        for (std::size_t t = 0; t < blocks.size(); ++t) {
          std::size_t len = base + (t < extra ? 1 : 0);
          CHECK(blocks[t] == std::vector<int>(xs.begin() + long(at), xs.begin() + long(at + len)));
          at += len;
        }
        // Flattened one-item blocks come back through gather as well.
        dv.scatter("y", xs, true);
        CHECK(dv.gather<int>("y") == xs);
      }
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("scatter of the ids with flatten gives each engine its own id", "[namespace]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    dv.scatter("id", c.ids(), true);
    CHECK(dv.pull<int>("id") == c.ids());  // an int per engine, not a one-item vector
    CHECK(dv.apply_sync(my_id) == c.ids());
    CHECK(dv.gather<int>("id") == c.ids());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("clear empties the namespaces", "[namespace]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    dv.push({{"a", 1}});
    REQUIRE(dv.pull<int>("a").size() == dv.targets().size());
    dv.clear();
    CHECK_THROWS_AS(dv.pull<int>("a"), mpiply::Error);
    check_names_engine_and_name([&] { dv.pull<int>("a"); }, dv.targets(), "a");
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("missing names and wrong types are errors naming the engine and the name",
          "[namespace][errors]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    dv.clear();
    dv.push({{"num", 3}});
    check_names_engine_and_name([&] { dv.pull<int>("no_such_name"); }, dv.targets(),
                                "no_such_name");
    check_names_engine_and_name([&] { dv.pull<std::string>("num"); }, dv.targets(), "num");
    check_names_engine_and_name([&] { dv.gather<double>("num"); }, dv.targets(), "num");
    // A single-engine view raises the engine's RemoteError itself, as ipyparallel does.
    auto e0 = c[0];
    try {
      (void)e0.pull<int>("no_such_name");
      FAIL_CHECK("pull of a missing name did not raise");
    } catch (const mpiply::RemoteError& e) {
      CHECK(std::string(e.what()).find("no_such_name") != std::string::npos);
      CHECK(e.engine_id() == 0);
    } catch (const mpiply::Error& e) {
      FAIL_CHECK("expected RemoteError, got: " << e.what());
    }
    // The failed pulls left the namespace intact.
    CHECK(dv.pull<int>("num") == std::vector<int>(dv.targets().size(), 3));
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("tasks read pushed data and set values that pulls see", "[namespace]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    std::vector<double> data(100);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = 0.25 * double(i) - 3.0;
    dv.push({{"data", data}});  // loaded once per engine ...
    auto idx = iota_vec(100);
    auto lb = c.load_balanced_view();
    CHECK(lb.map(data_at, idx, {.chunksize = 7}) == data);  // ... then many tasks index into it
    CHECK(dv.map(data_at, idx) == data);

    dv.apply_sync(store_scaled, 3);
    std::vector<int> want;
    for (int id : dv.targets()) want.push_back(3 * id + 7);
    CHECK(dv.pull<int>("scaled") == want);
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a 1 MiB array push and pull round-trips exactly", "[namespace][large]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    // 131072 doubles = 1 MiB, far above the 64 KiB segment threshold; values that would expose a
    // byte-level mix-up (non-integral, negative, distinct).
    std::vector<double> big(std::size_t(1) << 17);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = double(i) * 1.0000001 - 65536.5;
    dv.push({{"big", big}});
    auto back = dv.pull<std::vector<double>>("big");
    REQUIRE(back.size() == dv.targets().size());
    for (const auto& b : back) CHECK(b == big);
    // Tasks see the same values.
    auto lb = c.load_balanced_view();
    dv.push({{"data", big}});
    std::vector<int> probe{0, 1, 65535, 65536, 131071};
    std::vector<double> want;
    for (int i : probe) want.push_back(big[std::size_t(i)]);
    CHECK(lb.map(data_at, probe) == want);
    // push_async takes a copy: changing the source afterwards does not change what arrives.
    auto copy = big;
    auto ar = dv.push_async({mpiply::NamedValue("big2", copy)});
    copy.assign(copy.size(), 0.0);
    ar.get();
    for (const auto& b : dv.pull<std::vector<double>>("big2")) CHECK(b == big);
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("scatter and gather of megabytes per engine arrive element for element",
          "[namespace][large]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    for (auto& dv : mpiply_test::all_and_reversed_views(c)) {
      const std::size_t t = dv.targets().size();
      // 10^6 doubles (8 MB over the targets), and 1 MiB per target plus a remainder, so the
      // blocks differ in size.
      for (std::size_t n : {std::size_t(1000000), t * (std::size_t(1) << 17) + t - 1}) {
        INFO("targets=" << t << " n=" << n);
        const auto xs = pattern(n, 0.5);
        dv.scatter("x", xs);
        CHECK(first_mismatch(dv.gather<double>("x"), xs) == -1);
        auto blocks = dv.pull<std::vector<double>>("x");
        REQUIRE(blocks.size() == t);
        auto parts = mpiply::detail::partition(n, t);
        for (std::size_t i = 0; i < t; ++i) {
          auto [b, len] = parts[i];
          CHECK(len * sizeof(double) >= (std::size_t(1) << 20));
          CHECK(first_mismatch(blocks[i], std::vector<double>(xs.begin() + long(b),
                                                              xs.begin() + long(b + len))) == -1);
        }
        // The asynchronous form owns its blocks: the input may go before the scatter lands.
        auto ar = dv.scatter_async("y", pattern(n, 1.5));
        ar.get(kBound);
        CHECK(first_mismatch(dv.gather<double>("y"), pattern(n, 1.5)) == -1);
      }
      // Flattened one-item blocks that are themselves large arrays.
      std::vector<std::vector<double>> rows;
      for (std::size_t i = 0; i < t; ++i) rows.push_back(pattern(std::size_t(1) << 17, double(i)));
      dv.scatter("row", rows, true);
      auto back = dv.pull<std::vector<double>>("row");
      REQUIRE(back.size() == t);
      for (std::size_t i = 0; i < t; ++i) CHECK(first_mismatch(back[i], rows[i]) == -1);
      dv.clear();
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a NamedValue borrows a large lvalue and owns a large rvalue", "[namespace][large]") {
  auto big = pattern(std::size_t(1) << 17, 0.0);  // 1 MiB: over the segment threshold
  mpiply::NamedValue lv("lv", big);
  CHECK(lv.borrowed());  // a blocking push sends it from big's memory, no copy
  mpiply::NamedValue rv("rv", std::move(big));
  CHECK_FALSE(rv.borrowed());  // moved in (not copied) and kept alive by the value itself
  mpiply::NamedValue small("s", std::vector<double>(10));
  CHECK_FALSE(small.borrowed());
  auto copy = lv;
  copy.own();
  CHECK_FALSE(copy.borrowed());
}

TEST_CASE("push and push_async of large temporaries and lvalues arrive intact",
          "[namespace][large]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    constexpr std::size_t n = 1000000;
    auto dv = c.direct_view();
    // Values built from temporaries in one statement and pushed in a later one: the NamedValue
    // must own what it was given, not point at a vector that is already gone.
    std::vector<mpiply::NamedValue> vals;
    vals.emplace_back("t1", pattern(n, 1.5));
    vals.push_back(mpiply::NamedValue("t2", pattern(n, 2.5)));
    dv.push(vals);
    check_pulled(dv, "t1", pattern(n, 1.5));
    check_pulled(dv, "t2", pattern(n, 2.5));
    std::vector<mpiply::NamedValue> avals{{"t3", pattern(n, 3.5)}};
    auto ar = dv.push_async(std::move(avals));
    ar.get(kBound);
    check_pulled(dv, "t3", pattern(n, 3.5));
    mpiply::NamedValue single("t4", pattern(n, 4.5));
    c[0].push({single});
    CHECK(first_mismatch(c[0].pull<std::vector<double>>("t4"), pattern(n, 4.5)) == -1);

    // Lvalues: the blocking push borrows, push_async copies, so the source may change at once.
    auto lv = pattern(n, 5.5);
    dv.push({{"l1", lv}});
    check_pulled(dv, "l1", pattern(n, 5.5));
    auto ar2 = dv.push_async({{"l2", lv}});
    std::fill(lv.begin(), lv.end(), -1.0);
    ar2.get(kBound);
    check_pulled(dv, "l2", pattern(n, 5.5));
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}
