// map on both views: results, zipping, argument checks, chunking into messages, ordered and
// unordered iteration, and DirectView's contiguous partitioning. Every TEST_CASE runs on every
// rank; only rank 0 runs the client lambda, the other ranks serve as engines.
#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "hub_support.hpp"
#include "support.hpp"

namespace {

char arg0[] = "test_map";
char* argv[] = {arg0, nullptr};
// Upper bound for any wait: a hang becomes a TimeoutError (a failure), never a stuck test.
constexpr mpiply::Seconds kBound{60};

int square(int x) { return x * x; }
double add2(int a, double b) { return a + b; }
long fma3(int a, int b, int c) { return long(a) * b + c; }
int engine_of(int) { return mpiply::this_engine().id(); }
// Item 0 waits at the gate until the test opens it, so later items finish before it.
int gated_first(std::string gate, int i) {
  if (i == 0) hub_test::wait_for_gate(gate, mpiply::this_engine().id());
  return i;
}

}  // namespace

MPIPLY_REGISTER(square);
MPIPLY_REGISTER(add2);
MPIPLY_REGISTER(fma3);
MPIPLY_REGISTER(engine_of);
MPIPLY_REGISTER(gated_first);

namespace {

using mpiply_test::iota_vec;
std::vector<int> squares_of(const std::vector<int>& xs) {
  std::vector<int> out(xs.size());
  std::transform(xs.begin(), xs.end(), out.begin(), [](int x) { return x * x; });
  return out;
}
std::size_t ceil_div(std::size_t n, std::size_t k) { return (n + k - 1) / k; }

// Checks the shape every map result must have: its items match xs mapped locally.
template <class View>
void check_square_maps(View& v) {
  for (int n : {1, 2, 7, 23}) {
    auto xs = iota_vec(n);
    auto want = squares_of(xs);
    for (long k : {1L, 3L, 100L}) {
      for (bool ordered : {true, false}) {
        INFO("n=" << n << " chunksize=" << k << " ordered=" << ordered);
        auto amr = v.map_async(square, xs, {.chunksize = k, .ordered = ordered});
        CHECK(amr.size() == xs.size());
        CHECK(amr.get(kBound) == want);
        CHECK(amr.progress() == xs.size());
      }
    }
    CHECK(v.map_sync(square, xs) == want);
    CHECK(v.map(square, xs, {.chunksize = 2}) == want);
  }
}

}  // namespace

TEST_CASE("map equals a local transform on both views", "[map]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    auto dv = c.direct_view();
    check_square_maps(lb);
    check_square_maps(dv);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("map zips two and three sequences", "[map]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    std::vector<int> a = iota_vec(11);
    std::vector<double> b(11);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.5 * double(i);
    std::vector<int> m(11, 3), z(11, -1);
    std::vector<double> want2(11);
    std::vector<long> want3(11);
    for (std::size_t i = 0; i < 11; ++i) {
      want2[i] = a[i] + b[i];
      want3[i] = long(a[i]) * m[i] + z[i];
    }
    auto lb = c.load_balanced_view();
    auto dv = c.direct_view();
    CHECK(lb.map(add2, a, b, {.chunksize = 2}) == want2);
    CHECK(dv.map(add2, a, b) == want2);
    CHECK(lb.map_sync(fma3, a, m, z) == want3);
    CHECK(dv.map_async(fma3, a, m, z, {.chunksize = 4, .ordered = false}).get(kBound) == want3);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("bad map arguments are UsageErrors raised before anything is sent", "[map]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    auto dv = c.direct_view();
    std::vector<int> a = iota_vec(5), shorter = iota_vec(4);
    std::vector<double> b(6, 1.0);
    auto before = c.history();
    CHECK_THROWS_AS(lb.map_async(add2, a, b), mpiply::UsageError);
    CHECK_THROWS_AS(dv.map_async(add2, a, b), mpiply::UsageError);
    CHECK_THROWS_AS(lb.map_async(fma3, a, a, shorter), mpiply::UsageError);
    CHECK_THROWS_AS(dv.map_sync(fma3, shorter, a, a), mpiply::UsageError);
    CHECK_THROWS_AS(lb.map(add2, a, b), mpiply::UsageError);
    for (long k : {0L, -1L}) {
      INFO("chunksize=" << k);
      CHECK_THROWS_AS(lb.map_async(square, a, {.chunksize = k}), mpiply::UsageError);
      CHECK_THROWS_AS(dv.map_async(square, a, {.chunksize = k}), mpiply::UsageError);
      CHECK_THROWS_AS(lb.map_sync(square, a, {.chunksize = k}), mpiply::UsageError);
    }
    CHECK(c.history() == before);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("an empty input gives an empty result at once", "[map]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    auto dv = c.direct_view();
    const std::vector<int> none;
    auto before = c.history();
    for (bool ordered : {true, false}) {
      auto a = lb.map_async(square, none, {.ordered = ordered});
      auto d = dv.map_async(square, none, {.chunksize = 3, .ordered = ordered});
      for (auto* r : {&a, &d}) {
        CHECK(r->ready());  // no wait needed: nothing was sent
        CHECK(r->size() == 0);
        CHECK(r->progress() == 0);
        CHECK(r->get().empty());
        CHECK(r->begin() == r->end());
      }
    }
    CHECK(lb.map(square, none).empty());
    CHECK(dv.map_sync(square, none).empty());
    CHECK(c.history() == before);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("chunksize k sends ceil(n/k) messages of at most k items", "[map]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    for (int n : {1, 5, 12, 13}) {
      for (long k : {1L, 2L, 4L, 5L, 12L, 20L}) {
        INFO("n=" << n << " chunksize=" << k);
        auto xs = iota_vec(n);
        auto amr = lb.map_async(square, xs, {.chunksize = k});
        REQUIRE(amr.wait(kBound));
        std::size_t nmsg = ceil_div(std::size_t(n), std::size_t(k));
        CHECK(amr.msg_ids().size() == nmsg);
        auto meta = amr.metadata();
        REQUIRE(meta.size() == nmsg);
        std::size_t total = 0;
        for (std::size_t t = 0; t < meta.size(); ++t) {
          // Every chunk is full except possibly the last.
          std::size_t want = t + 1 < nmsg ? std::size_t(k) : std::size_t(n) - t * std::size_t(k);
          CHECK(meta[t].items == want);
          CHECK(meta[t].status == mpiply::TaskStatus::ok);
          total += meta[t].items;
        }
        CHECK(total == std::size_t(n));
        CHECK(amr.size() == std::size_t(n));  // items, not messages
        CHECK(amr.progress() == std::size_t(n));
        CHECK(amr.get() == squares_of(xs));
      }
    }
    // DirectView: each target's block is cut into chunks of its own.
    auto dv = c.direct_view();
    std::size_t ntargets = dv.targets().size();
    for (int n : {3, 10, 11}) {
      for (long k : {1L, 3L, 50L}) {
        INFO("direct n=" << n << " chunksize=" << k);
        auto amr = dv.map_async(square, iota_vec(n), {.chunksize = k});
        REQUIRE(amr.wait(kBound));
        std::size_t want_msgs = 0, base = std::size_t(n) / ntargets, extra = std::size_t(n) % ntargets;
        for (std::size_t t = 0; t < ntargets; ++t)
          want_msgs += ceil_div(base + (t < extra ? 1 : 0), std::size_t(k));
        CHECK(amr.msg_ids().size() == want_msgs);
        std::size_t total = 0;
        for (const auto& m : amr.metadata()) {
          CHECK(m.items >= 1);
          CHECK(m.items <= std::size_t(k));
          total += m.items;
        }
        CHECK(total == std::size_t(n));
      }
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("ordered iteration yields input order, during and after the run", "[map][iter]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    auto xs = iota_vec(12);
    for (long k : {1L, 5L}) {
      INFO("chunksize=" << k);
      // Item 0 waits at a gate: with two engines or more, later items finish first, yet
      // iteration must wait for it.
      hub_test::Gate gate;
      if (c.ids().size() < 2) gate.open();  // items behind it on its one engine would wait too
      auto amr = lb.map_async(gated_first, std::vector<std::string>(xs.size(), gate.path()), xs,
                              {.chunksize = k, .ordered = true});
      for (int spins = 0; amr.progress() == 0 && spins < 6000; ++spins)
        amr.wait(mpiply::Seconds(0.01));  // until a later item finished (bounded: 60 s)
      CHECK(amr.progress() > 0);
      if (c.ids().size() >= 2) CHECK_FALSE(amr.ready());  // item 0 is still held
      gate.open();
      std::vector<int> first_pass, second_pass;
      for (int v : amr) first_pass.push_back(v);  // starts while results are still arriving
      CHECK(first_pass == xs);
      REQUIRE(amr.ready());
      for (int v : amr) second_pass.push_back(v);
      CHECK(second_pass == xs);
      std::size_t pos = 0;
      for (auto it = amr.begin(); it != amr.end(); ++it, ++pos) CHECK(it.index() == pos);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("unordered iteration yields each item once, fast ones first", "[map][iter]") {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    auto xs = iota_vec(16);
    hub_test::Gate gate;
    // With one engine (or none) item 0 would hold back every item behind it: no gate then.
    if (size < 3) gate.open();
    auto amr = lb.map_async(gated_first, std::vector<std::string>(xs.size(), gate.path()), xs,
                            {.chunksize = 1, .ordered = false});
    CHECK_FALSE(amr.ordered());
    std::vector<int> got;
    std::vector<std::size_t> idx;
    std::size_t progress_at_first = 0;
    for (auto it = amr.begin(); it != amr.end(); ++it) {
      got.push_back(*it);
      idx.push_back(it.index());
      if (got.size() == 1) {
        progress_at_first = amr.progress();
        gate.open();  // item 0 may finish now that another came first
      }
    }
    REQUIRE(got.size() == xs.size());
    // gated_first returns its input, so the value and the reported index must agree.
    for (std::size_t p = 0; p < got.size(); ++p) CHECK(std::size_t(got[p]) == idx[p]);
    std::vector<int> sorted = got;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == xs);  // every item exactly once
    if (size >= 3) {
      // Two or more engines: while item 0 waits at the gate, others finish.
      CHECK(got.front() != 0);
      CHECK(progress_at_first < xs.size());  // the first value came while item 0 still ran
    }
    // Iterating again after completion yields the same arrival order.
    std::vector<int> again(amr.begin(), amr.end());
    CHECK(again == got);
    CHECK(amr.get() == xs);  // get() is in input order regardless
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("DirectView.map partitions contiguously across its targets", "[map][direct]") {
  int rc = mpiply::run(1, argv, [&](mpiply::Client& c) {
    auto views = mpiply_test::all_and_reversed_views(c);
    for (auto& dv : views) {
      const auto& targets = dv.targets();
      for (int n : {1, 2, 3, 5, 8, 10}) {
        for (long k : {1L, 2L}) {
          INFO("targets=" << targets.size() << " n=" << n << " chunksize=" << k);
          auto who = dv.map(engine_of, iota_vec(n), {.chunksize = k});
          REQUIRE(who.size() == std::size_t(n));
          // Walk the result: runs of one engine, in target order, sizes as ipyparallel's.
          std::size_t at = 0, base = std::size_t(n) / targets.size(),
                      extra = std::size_t(n) % targets.size();
          for (std::size_t t = 0; t < targets.size(); ++t) {
            std::size_t len = base + (t < extra ? 1 : 0);  // larger blocks first
            for (std::size_t i = at; i < at + len; ++i) CHECK(who[i] == targets[t]);
            at += len;
          }
          CHECK(at == std::size_t(n));
        }
      }
    }
    return 0;
  });
  REQUIRE(rc == 0);
}
