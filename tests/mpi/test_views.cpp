// The view API beyond apply and map basics: what each view targets and how many engines that is,
// the single-engine view's full set (push_async, map with options, multi-name pull), gather_async,
// client iteration and direct_view(id | all), name proxies that outlive the expression they came
// from, maps over unsized ranges and over References, apply with a vector of References, and a
// user struct that opted in to raw-byte transfer crossing ranks.
#include <algorithm>
#include <cstddef>
#include <numeric>
#include <ranges>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

constexpr mpiply::Seconds kBound{120};

// Trivially copyable and opted in: sent as its bytes, on every rank count.
struct Particle {
  double x, y, z;
  int id;
  bool operator==(const Particle&) const = default;
};

Particle drift(Particle p, double dt) { return {p.x + dt, p.y - dt, p.z * 2, p.id + 1}; }
int square(int x) { return x * x; }
long add(int a, long b) { return a + b; }
double sum_all(const std::vector<double>& xs) { return std::accumulate(xs.begin(), xs.end(), 0.0); }
int my_id() { return mpiply::this_engine().id(); }
double twice(double x) { return 2 * x; }

}  // namespace

template <>
struct mpiply::is_bitwise<Particle> : std::true_type {};

MPIPLY_REGISTER(drift);
MPIPLY_REGISTER(square);
MPIPLY_REGISTER(add);
MPIPLY_REGISTER(sum_all);
MPIPLY_REGISTER(my_id);
MPIPLY_REGISTER(twice);

namespace {

using mpiply_test::iota_vec;
using mpiply_test::run_client;

std::vector<int> squares(const std::vector<int>& xs) {
  std::vector<int> out;
  for (int x : xs) out.push_back(x * x);
  return out;
}

std::vector<double> pattern(std::size_t n, double salt) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = double(i) * 0.999999 + salt;
  return v;
}
long first_mismatch(const std::vector<double>& got, const std::vector<double>& want) {
  std::size_t n = std::min(got.size(), want.size());
  for (std::size_t i = 0; i < n; ++i)
    if (got[i] != want[i]) return long(i);
  return got.size() == want.size() ? -1 : long(n);
}

}  // namespace

TEST_CASE("an opted-in struct crosses ranks as its bytes", "[views][codec]") {
  int rc = run_client([](mpiply::Client& c) {
    STATIC_REQUIRE(mpiply::detail::Bitwise<Particle>);
    Particle p{1.0, 2.0, 3.0, 7};
    Particle want{1.5, 1.5, 6.0, 8};
    auto dv = c.direct_view();
    CHECK(dv.apply(drift, p, 0.5) == std::vector<Particle>(dv.size(), want));
    std::vector<Particle> ps(50);
    for (int i = 0; i < 50; ++i) ps[std::size_t(i)] = {double(i), -double(i), 0.25 * i, i};
    auto moved = c.load_balanced_view().map(drift, ps, std::vector<double>(50, 1.0), {.chunksize = 7});
    for (std::size_t i = 0; i < ps.size(); ++i) CHECK(moved[i] == drift(ps[i], 1.0));
    dv.push({{"ps", ps}});
    for (const auto& back : dv.pull<std::vector<Particle>>("ps")) CHECK(back == ps);
    dv.clear();
  });
  REQUIRE(rc == 0);
}

TEST_CASE("views report their targets and size", "[views]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ids = c.ids();
    CHECK(c.size() == ids.size());
    CHECK(c.direct_view().size() == ids.size());
    CHECK(c[mpiply::all].targets() == ids);
    CHECK(c.direct_view(mpiply::all).targets() == ids);
    CHECK(c.direct_view(-1).targets() == std::vector<int>{ids.back()});
    CHECK(c.direct_view(0).size() == 1);
    CHECK(c[0].size() == 1);
    CHECK(c[0].targets() == std::vector<int>{0});
    auto lb = c.load_balanced_view();
    CHECK(lb.targets() == ids);
    CHECK(lb.size() == ids.size());
    // Every engine, in any order, is the whole job.
    std::vector<int> reversed(ids.rbegin(), ids.rend());
    CHECK(c.load_balanced_view(reversed).targets() == ids);
    CHECK(c.load_balanced_view(reversed).apply(square, 3) == 9);
    CHECK_THROWS_AS(c.load_balanced_view(std::vector<int>{}), mpiply::UsageError);
    CHECK_THROWS_AS(c.load_balanced_view({int(ids.size())}), mpiply::UsageError);
    CHECK_THROWS_AS(c.direct_view(int(ids.size())), mpiply::UsageError);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a load-balanced view over some engines runs its tasks only there", "[views]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ids = c.ids();
    // The last engine alone, and (with three or more) every engine but the first.
    std::vector<std::vector<int>> subsets{{ids.back()}};
    if (ids.size() >= 3) subsets.emplace_back(ids.begin() + 1, ids.end());
    for (const auto& subset : subsets) {
      auto lb = c.load_balanced_view(subset);
      CHECK(lb.targets() == subset);
      // 64 chunks of a 1 MiB input: far more than hwm per engine, so the scheduler must hold
      // the rest back for these engines instead of handing them to idle others.
      std::vector<double> xs(std::size_t(1) << 17);
      std::iota(xs.begin(), xs.end(), 0.0);
      auto amr = lb.map_async(twice, xs, {.chunksize = 2048});
      auto ys = amr.get(kBound);
      for (std::size_t i = 0; i < xs.size(); ++i) REQUIRE(ys[i] == 2 * xs[i]);
      std::set<int> used;
      for (const auto& md : amr.metadata()) used.insert(md.engine_id);
      CHECK(used.size() >= 1);
      for (int e : used) CHECK(std::find(subset.begin(), subset.end(), e) != subset.end());
      std::vector<mpiply::AsyncResult<int>> ones;
      for (int k = 0; k < 20; ++k) ones.push_back(lb.apply_async(my_id));
      for (auto& ar : ones)
        CHECK(std::find(subset.begin(), subset.end(), ar.get(kBound)) != subset.end());
    }
    // Tasks kept for a busy subset do not hold up the all-engine queue behind them.
    if (ids.size() >= 2) {
      auto first_only = c.load_balanced_view({ids.front()});
      std::vector<mpiply::AsyncResult<int>> held;
      for (int k = 0; k < 4 * c.hwm() + 4; ++k) held.push_back(first_only.apply_async(my_id));
      auto rest = c.load_balanced_view(std::vector<int>(ids.begin() + 1, ids.end()));
      CHECK(rest.apply_async(my_id).get(kBound) != ids.front());
      for (auto& ar : held) CHECK(ar.get(kBound) == ids.front());
    }
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a Client iterates over its engines", "[views]") {
  int rc = run_client([](mpiply::Client& c) {
    std::vector<int> seen;
    for (mpiply::EngineView e : c) {
      seen.push_back(e.id());
      CHECK(e.apply(my_id) == e.id());
    }
    CHECK(seen == c.ids());
    CHECK(std::distance(c.begin(), c.end()) == std::ptrdiff_t(c.size()));
  });
  REQUIRE(rc == 0);
}

TEST_CASE("client[i] pushes asynchronously, maps with options and pulls several names",
          "[views][namespace]") {
  int rc = run_client([](mpiply::Client& c) {
    for (mpiply::EngineView e : c) {
      INFO("engine " << e.id());
      // push_async of a large temporary and of an lvalue changed right after: both arrive whole.
      constexpr std::size_t n = 1000000;
      auto lv = pattern(n, 0.25);
      auto a1 = e.push_async({{"tmp", pattern(n, 0.5)}, {"lv", lv}, {"k", 42}});
      std::fill(lv.begin(), lv.end(), 0.0);
      a1.get(kBound);
      CHECK(first_mismatch(e.pull<std::vector<double>>("tmp"), pattern(n, 0.5)) == -1);
      CHECK(first_mismatch(e.pull<std::vector<double>>("lv"), pattern(n, 0.25)) == -1);
      auto [k, tmp] = e.pull<int, std::vector<double>>({"k", "tmp"});
      CHECK(k == 42);
      CHECK(tmp.size() == n);
      CHECK_THROWS_AS((e.pull<int, int>({"k"})), mpiply::UsageError);  // a name short

      auto xs = iota_vec(20);
      CHECK(e.map_sync(square, xs) == squares(xs));
      auto amr = e.map_async(square, xs, {.chunksize = 6, .ordered = false});
      CHECK(amr.get(kBound) == squares(xs));
      CHECK(amr.msg_ids().size() == 4);
      CHECK(e.map(square, xs, {.chunksize = 3}) == squares(xs));
      e.clear();
    }
  });
  REQUIRE(rc == 0);
}

TEST_CASE("DirectView gathers asynchronously and pulls several names", "[views][namespace]") {
  int rc = run_client([](mpiply::Client& c) {
    for (auto& dv : mpiply_test::all_and_reversed_views(c)) {
      auto xs = iota_vec(41);
      dv.scatter("x", xs);
      dv.push({{"s", std::string("text")}});
      auto ag = dv.gather_async<int>("x");
      CHECK(ag.get(kBound) == xs);
      CHECK(ag.size() == dv.size());  // one part per target
      auto both = dv.pull<std::vector<int>, std::string>({"x", "s"});
      REQUIRE(both.size() == dv.size());
      std::vector<int> joined;
      for (auto& [block, s] : both) {
        joined.insert(joined.end(), block.begin(), block.end());
        CHECK(s == "text");
      }
      CHECK(joined == xs);
      // A missing name fails the gather on every target.
      CHECK_THROWS_AS(dv.gather_async<int>("absent").get(kBound), mpiply::Error);
      dv.clear();
    }
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a name proxy holds its view and outlives the expression", "[views][namespace]") {
  int rc = run_client([](mpiply::Client& c) {
    auto p = c[mpiply::all]["x"];  // the DirectView it came from was a temporary
    p = 5;
    CHECK(p.get<int>() == std::vector<int>(c.size(), 5));
    auto q = c[0]["y"];
    q = std::string("single");
    CHECK(q.get<std::string>() == "single");  // client[i] gives the value itself
    c.direct_view().clear();
  });
  REQUIRE(rc == 0);
}

#if MPIPLY_TEST_STD_VIEWS
TEST_CASE("map accepts any input range, sized or not", "[views][map]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lb = c.load_balanced_view();
    auto dv = c.direct_view();
    auto want = squares(iota_vec(10));
    auto taken = std::views::iota(0) | std::views::take(10);  // unbounded iota: no size
    CHECK(lb.map(square, taken) == want);
    CHECK(dv.map(square, taken, {.chunksize = 2}) == want);
    auto plus_one = std::views::iota(0) | std::views::take(10) |
                    std::views::transform([](int i) { return i + 1; });
    CHECK(lb.map(square, plus_one) == squares({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    // filter_view is neither sized nor const-iterable: walked once, on the caller's side.
    auto xs = iota_vec(30);
    auto evens = xs | std::views::filter([](int i) { return i % 2 == 0; });
    CHECK(lb.map_async(square, evens, {.chunksize = 4, .ordered = false}).get(kBound) ==
          squares({0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28}));
    // Zipped with a sized sequence, lengths still checked.
    CHECK(dv.map(add, taken, std::vector<long>(10, 100L))[9] == 109);
    CHECK_THROWS_AS(lb.map(add, taken, std::vector<long>(9, 1L)), mpiply::UsageError);
    // An rvalue vector is moved in, a braced list converted.
    CHECK(lb.map(square, iota_vec(10)) == want);
    CHECK(lb.map(square, {1, 2, 3}) == std::vector<int>{1, 4, 9});
  });
  REQUIRE(rc == 0);
}
#endif

TEST_CASE("map over References resolves each item; apply resolves a vector of them",
          "[views][reference]") {
  int rc = run_client([](mpiply::Client& c) {
    auto dv = c.direct_view();
    dv.push({{"a", 1.5}, {"b", 2.0}, {"c", -4.0}});
    std::vector<mpiply::Reference<double>> refs{mpiply::Reference<double>("a"),
                                                mpiply::Reference<double>("b"),
                                                mpiply::Reference<double>("c")};
    std::vector<double> want{3.0, 4.0, -8.0};
    CHECK(c.load_balanced_view().map(twice, refs) == want);
    CHECK(dv.map(twice, refs, {.chunksize = 2}) == want);
    std::vector<mpiply::Reference<>> untyped{mpiply::Reference<>("c"), mpiply::Reference<>("a")};
    CHECK(c.load_balanced_view().map(twice, untyped) == std::vector<double>{-8.0, 3.0});
    // A std::vector<Reference> for a std::vector parameter: resolved element by element.
    CHECK(dv.apply(sum_all, refs) == std::vector<double>(dv.size(), -0.5));
    CHECK(c[0].apply(sum_all, std::vector<mpiply::Reference<>>{mpiply::Reference<>("b")}) == 2.0);
    // A missing name fails like a single Reference does, naming it.
    try {
      c[0].apply(sum_all, std::vector<mpiply::Reference<>>{mpiply::Reference<>("zz")});
      FAIL("a missing name did not raise");
    } catch (const mpiply::RemoteError& e) {
      CHECK(std::string(e.what()).find("zz") != std::string::npos);
    }
    dv.clear();
  });
  REQUIRE(rc == 0);
}
