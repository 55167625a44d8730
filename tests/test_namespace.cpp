// The engines' namespaces: push/pull, view["a"], scatter/gather with ipyparallel's partitioning,
// clear, tasks reading and writing their engine's values, errors that name the engine and the
// name, and a large array through the zero-copy segment path.
#include <algorithm>
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
