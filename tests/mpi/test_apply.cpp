// apply on every kind of view, engine addressing (ids, rc[i], rc[-1], lists, all), get_dict, and
// the argument/result types a registered function may use. Every TEST_CASE runs on every rank:
// rank 0 runs the lambda as client_main, the other ranks serve as engines.
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using mpiply_test::world_size;

namespace {

using mpiply_test::run_client;

// The engine ids the job must have: 0..N-2, or the single inline engine 0 with one rank.
std::vector<int> expected_ids() {
  int n = world_size();
  if (n == 1) return {0};
  std::vector<int> ids;
  for (int i = 0; i < n - 1; ++i) ids.push_back(i);
  return ids;
}

}  // namespace

// ---- registered functions (namespace scope, as users write them) ----

int add(int a, int b) { return a + b; }
MPIPLY_REGISTER(add);

int my_engine_id() { return mpiply::this_engine().id(); }
MPIPLY_REGISTER(my_engine_id);

long apply_getpid() { return static_cast<long>(::getpid()); }
MPIPLY_REGISTER(apply_getpid);

double half(double x) { return x / 2; }
MPIPLY_REGISTER(half);

// const-ref parameters are allowed and bind to the decoded value.
std::string greet(const std::string& who) { return "hello " + who; }
MPIPLY_REGISTER(greet);

std::vector<double> scale(const std::vector<double>& v, double k) {
  std::vector<double> out;
  for (double x : v) out.push_back(x * k);
  return out;
}
MPIPLY_REGISTER(scale);

std::map<std::string, int> bump(std::map<std::string, int> m) {
  for (auto& [k, v] : m) ++v;
  m["new"] = 1;
  return m;
}
MPIPLY_REGISTER(bump);

std::pair<int, std::string> swap_pair(const std::pair<std::string, int>& p) {
  return {p.second, p.first};
}
MPIPLY_REGISTER(swap_pair);

std::tuple<std::string, int, double> rotate(std::tuple<int, double, std::string> t) {
  return {std::get<2>(t), std::get<0>(t), std::get<1>(t)};
}
MPIPLY_REGISTER(rotate);

// Trivially copyable and opted in to raw-byte transfer: no serialize() needed.
struct Vec3 {
  double x, y, z;
  int tag;
};
static_assert(std::is_trivially_copyable_v<Vec3>);
template <>
struct mpiply::is_bitwise<Vec3> : std::true_type {};
Vec3 cross(Vec3 a, const Vec3& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x, a.tag + b.tag};
}
MPIPLY_REGISTER(cross);

// Not trivially copyable: goes through its Boost serialize().
struct Person {
  std::string name;
  std::vector<int> scores;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & name & scores;
  }
  bool operator==(const Person&) const = default;
};
Person promote(const Person& p, int bonus) {
  Person q = p;
  q.name += " (promoted)";
  for (int& s : q.scores) s += bonus;
  return q;
}
MPIPLY_REGISTER(promote);

// void functions produce mpiply::None; the side effect lands in the engine's namespace.
void store_value(int v) { mpiply::this_engine().set("stored", v); }
MPIPLY_REGISTER(store_value);
int load_value() { return mpiply::this_engine().get<int>("stored"); }
MPIPLY_REGISTER(load_value);

// ---- tests ----

TEST_CASE("ids are 0..N-2, or {0} with one rank", "[apply]") {
  int rc = run_client([](mpiply::Client& c) {
    CHECK(c.ids() == expected_ids());
    CHECK(c.inline_mode() == (world_size() == 1));
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("load-balanced apply_async/apply_sync/apply return the value", "[apply]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    auto ar = lbv.apply_async(add, 2, 3);
    CHECK(ar.get() == 5);
    CHECK(ar.get() == 5);  // get() may be called again
    CHECK(lbv.apply_sync(add, 10, -4) == 6);
    CHECK(lbv.apply(add, 1, 1) == 2);
    // A single-task result's get_dict has the engine that ran it.
    auto d = lbv.apply_async(my_engine_id).get_dict();
    REQUIRE(d.size() == 1);
    CHECK(d.begin()->first == d.begin()->second);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("rc[i] runs on engine i and gives a single value", "[apply]") {
  int rc = run_client([](mpiply::Client& c) {
    for (int id : c.ids()) {
      CHECK(c[id].apply(my_engine_id) == id);
      CHECK(c[id].apply_sync(add, id, 1) == id + 1);
      CHECK(c[id].apply_async(my_engine_id).get() == id);
      CHECK(c[id].id() == id);
    }
    // Negative ids count from the end, as in Python.
    CHECK(c[-1].apply(my_engine_id) == c.ids().back());
    CHECK(c[-1].id() == c.ids().back());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("rc[99] raises UsageError naming the valid range", "[apply]") {
  int rc = run_client([](mpiply::Client& c) {
    int last = c.ids().back();
    try {
      (void)c[99];
      FAIL_CHECK("rc[99] did not throw");
    } catch (const mpiply::UsageError& e) {
      std::string what = e.what();
      CHECK_THAT(what, Catch::Contains("99"));
      CHECK_THAT(what, Catch::Contains("0.." + std::to_string(last)));
    }
    CHECK_THROWS_AS(c[-100], mpiply::UsageError);
    CHECK_THROWS_AS((c[std::vector<int>{0, 99}]), mpiply::UsageError);
    CHECK_THROWS_AS((c[std::vector<int>{}]), mpiply::UsageError);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("multi-engine views give one value per target, in target order", "[apply]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ids = c.ids();
    CHECK(c[mpiply::all].apply(my_engine_id) == ids);
    CHECK(c.direct_view().apply_sync(my_engine_id) == ids);
    CHECK(c.direct_view().apply_async(my_engine_id).get() == ids);
    CHECK(c.direct_view().targets() == ids);
    if (ids.size() >= 2) {
      CHECK(c[{0, 1}].apply(my_engine_id) == std::vector<int>{0, 1});
      // Target order is the caller's order, not engine order.
      std::vector<int> rev(ids.rbegin(), ids.rend());
      CHECK(c[rev].apply(my_engine_id) == rev);
      CHECK(c.direct_view(rev).apply(add, 1, 2) == std::vector<int>(rev.size(), 3));
    }
    auto one = c[std::vector<int>{ids.back()}].apply(my_engine_id);
    CHECK(one == std::vector<int>{ids.back()});
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("get_dict maps engine id to value (the reference's pid example)", "[apply]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c[mpiply::all].apply_async(apply_getpid);
    std::map<int, long> pids = ar.get_dict();
    std::vector<int> keys;
    for (auto& [id, pid] : pids) keys.push_back(id);
    CHECK(keys == c.ids());
    if (c.inline_mode()) {
      CHECK(pids.at(0) == static_cast<long>(::getpid()));
    } else {
      // Engines are other processes: all distinct and none is the client.
      std::set<long> distinct;
      for (auto& [id, pid] : pids) {
        CHECK(pid != static_cast<long>(::getpid()));
        distinct.insert(pid);
      }
      CHECK(distinct.size() == pids.size());
    }
    // The pid map agrees with what rc[i] reports for each engine.
    for (int id : c.ids()) CHECK(c[id].apply(apply_getpid) == pids.at(id));
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("get_dict raises UsageError when one engine ran two of the tasks", "[apply]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c[std::vector<int>{0, 0}].apply_async(my_engine_id);
    // The values themselves are fine; only the dict is ambiguous, as in ipyparallel.
    CHECK(ar.get() == std::vector<int>{0, 0});
    try {
      (void)ar.get_dict();
      FAIL_CHECK("get_dict did not throw");
    } catch (const mpiply::UsageError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("engine 0"));
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("arithmetic, string and const-ref arguments and results", "[apply][types]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    CHECK(lbv.apply(half, 3.0) == 1.5);
    CHECK(lbv.apply(half, 3) == 1.5);  // int converts to the double parameter at the call site
    CHECK(lbv.apply(greet, std::string("world")) == "hello world");
    CHECK(lbv.apply(greet, "literal") == "hello literal");
    std::string big(100000, 'x');
    CHECK(c[-1].apply(greet, big) == "hello " + big);
    CHECK(lbv.apply(greet, std::string()) == "hello ");
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("containers: vector<double>, map<string,int>, pair, tuple", "[apply][types]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    CHECK(lbv.apply(scale, std::vector<double>{1.0, -2.5, 4.0}, 2.0) ==
          std::vector<double>{2.0, -5.0, 8.0});
    CHECK(lbv.apply(scale, std::vector<double>{}, 2.0).empty());
    std::map<std::string, int> m{{"a", 1}, {"b", 41}};
    CHECK(lbv.apply(bump, m) == std::map<std::string, int>{{"a", 2}, {"b", 42}, {"new", 1}});
    CHECK(lbv.apply(swap_pair, std::make_pair(std::string("k"), 7)) ==
          std::make_pair(7, std::string("k")));
    CHECK(lbv.apply(rotate, std::make_tuple(1, 2.5, std::string("s"))) ==
          std::make_tuple(std::string("s"), 1, 2.5));
    // Per-target results of a container type on a DirectView.
    auto all = c[mpiply::all].apply(scale, std::vector<double>{1.0}, 3.0);
    CHECK(all == std::vector<std::vector<double>>(c.ids().size(), std::vector<double>{3.0}));
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("trivially copyable and Boost-serializable user structs", "[apply][types]") {
  int rc = run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    Vec3 r = lbv.apply(cross, Vec3{1, 0, 0, 3}, Vec3{0, 1, 0, 4});
    CHECK(r.x == 0.0);
    CHECK(r.y == 0.0);
    CHECK(r.z == 1.0);
    CHECK(r.tag == 7);
    Person p{"ada", {1, 2, 3}};
    Person q = lbv.apply(promote, p, 10);
    CHECK(q == Person{"ada (promoted)", {11, 12, 13}});
    auto qs = c[mpiply::all].apply(promote, p, 1);
    CHECK(qs == std::vector<Person>(c.ids().size(), Person{"ada (promoted)", {2, 3, 4}}));
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("void functions give mpiply::None and their side effects happen", "[apply][types]") {
  int rc = run_client([](mpiply::Client& c) {
    for (int id : c.ids()) {
      mpiply::None n = c[id].apply(store_value, 100 + id);
      CHECK(n == mpiply::None{});
    }
    std::vector<mpiply::None> nones = c[mpiply::all].apply(store_value, 5);
    CHECK(nones.size() == c.ids().size());
    CHECK(c[mpiply::all].apply(load_value) == std::vector<int>(c.ids().size(), 5));
    auto ar = c.load_balanced_view().apply_async(store_value, 6);
    CHECK(ar.get() == mpiply::None{});
    CHECK(ar.successful());
    return 0;
  });
  REQUIRE(rc == 0);
}
