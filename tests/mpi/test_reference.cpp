// Reference("name") as an argument: resolved in the namespace of whichever engine runs the task,
// for apply (one value per engine) and for map (the same name passed to every call).
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

char arg0[] = "test_reference";
char* argv[] = {arg0, nullptr};
constexpr mpiply::Seconds kBound{60};

int ident(int x) { return x; }
// Pairs the value with the engine that resolved it, to show resolution happens per engine.
std::vector<int> with_engine(const int& x) { return {x, mpiply::this_engine().id()}; }
long offset_by(int x, long off) { return x + off; }
int tagged(int x, int id) { return 1000 * x + id; }
double sum_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

}  // namespace

MPIPLY_REGISTER(ident);
MPIPLY_REGISTER(with_engine);
MPIPLY_REGISTER(offset_by);
MPIPLY_REGISTER(tagged);
MPIPLY_REGISTER(sum_of);

namespace {

using mpiply_test::iota_vec;

// A failure must carry the missing name; on a DirectView it may come per target (CompositeError).
template <class F>
void check_missing_name_error(F&& run_it, const std::string& name) {
  bool threw = false;
  try {
    run_it();
  } catch (const mpiply::CompositeError& e) {
    threw = true;
    REQUIRE_FALSE(e.errors().empty());
    for (const auto& item : e.errors())
      CHECK(std::string(item.error.what()).find(name) != std::string::npos);
  } catch (const mpiply::RemoteError& e) {
    threw = true;
    CHECK(std::string(e.what()).find(name) != std::string::npos);
  }
  CHECK(threw);
}

}  // namespace

TEST_CASE("Reference as an apply argument resolves on each engine", "[reference]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    dv.scatter("id", c.ids(), true);
    CHECK(dv.apply_sync(ident, mpiply::Reference<int>("id")) == c.ids());
    CHECK(dv.apply_sync(ident, mpiply::Reference<>("id")) == c.ids());
    // Through a const& parameter, and with the resolving engine reported back.
    auto pairs = dv.apply_async(with_engine, mpiply::Reference<int>("id")).get(kBound);
    REQUIRE(pairs.size() == c.ids().size());
    for (std::size_t i = 0; i < pairs.size(); ++i)
      CHECK(pairs[i] == std::vector<int>{c.ids()[i], c.ids()[i]});
    // Single engine and load-balanced apply: the id of whichever engine ran it.
    for (int id : c.ids()) CHECK(c[id].apply_sync(ident, mpiply::Reference<int>("id")) == id);
    auto lb = c.load_balanced_view();
    auto r = lb.apply_async(with_engine, mpiply::Reference<>("id")).get(kBound);
    CHECK(r[0] == r[1]);
    // A pushed vector used by reference: nothing but the name travels with the task.
    std::vector<double> v{0.5, 1.5, 2.0};
    dv.push({{"v", v}});
    CHECK(dv.apply_sync(sum_of, mpiply::Reference<std::vector<double>>("v")) ==
          std::vector<double>(dv.targets().size(), 4.0));
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("Reference in place of a map sequence is passed to every call", "[reference][map]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    dv.push({{"off", 100L}});
    auto xs = iota_vec(13);
    std::vector<long> want;
    for (int x : xs) want.push_back(x + 100L);
    auto lb = c.load_balanced_view();
    for (long k : {1L, 4L}) {
      INFO("chunksize=" << k);
      CHECK(lb.map(offset_by, xs, mpiply::Reference<long>("off"), {.chunksize = k}) == want);
      CHECK(dv.map(offset_by, xs, mpiply::Reference<>("off"), {.chunksize = k}) == want);
    }
    // A per-engine value: each item sees the id of the engine its block went to.
    dv.scatter("id", c.ids(), true);
    auto got = dv.map(tagged, xs, mpiply::Reference<int>("id"));
    auto who = dv.map_async(tagged, xs, mpiply::Reference<int>("id"), {.chunksize = 3});
    REQUIRE(who.wait(kBound));
    std::size_t at = 0, n = xs.size(), t = dv.targets().size();
    for (std::size_t e = 0; e < t; ++e) {
      std::size_t len = n / t + (e < n % t ? 1 : 0);
      for (std::size_t i = at; i < at + len; ++i) {
        CHECK(got[i] == 1000 * xs[i] + dv.targets()[e]);
        CHECK(who.value(i) == 1000 * xs[i] + dv.targets()[e]);
      }
      at += len;
    }
    // A map made only of References has no length: a UsageError, before anything is sent.
    auto before = c.history();
    CHECK_THROWS_AS(lb.map_async(tagged, mpiply::Reference<int>("id"), mpiply::Reference<int>("id")),
                    mpiply::UsageError);
    CHECK(c.history() == before);
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a Reference to a missing name raises an error naming it", "[reference][errors]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto dv = c.direct_view();
    dv.clear();
    // Single engine: AsyncResult raises the RemoteError itself.
    try {
      (void)c[0].apply_sync(ident, mpiply::Reference<int>("not_here"));
      FAIL("apply with a missing Reference did not raise");
    } catch (const mpiply::RemoteError& e) {
      CHECK(std::string(e.what()).find("not_here") != std::string::npos);
      CHECK(e.engine_id() == 0);
    }
    check_missing_name_error([&] { dv.apply_sync(ident, mpiply::Reference<int>("not_here")); },
                             "not_here");
    auto lb = c.load_balanced_view();
    check_missing_name_error(
        [&] { lb.apply_sync(ident, mpiply::Reference<>("not_here")); }, "not_here");
    check_missing_name_error(
        [&] { lb.map(offset_by, iota_vec(5), mpiply::Reference<long>("not_here"), {.chunksize = 2}); },
        "not_here");
    // Wrong type behind the name is an error too, naming it.
    dv.push({{"txt", std::string("hello")}});
    check_missing_name_error([&] { dv.apply_sync(ident, mpiply::Reference<>("txt")); }, "txt");
    dv.clear();
    return 0;
  });
  REQUIRE(rc == 0);
}
