// The function registry: registered functions are callable by name/id; ranks that disagree on
// what is registered, or on a function's signature, stop at start-up with kExitStartupFailed on
// every rank, before client_main.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using mpiply_test::world_rank;
using mpiply_test::world_size;

namespace {

using mpiply_test::run_client;

}  // namespace

int reg_square(int x) { return x * x; }
MPIPLY_REGISTER(reg_square);

namespace physics {
double reg_step(double x) { return x + 0.5; }
}  // namespace physics
MPIPLY_REGISTER(physics::reg_step);

int reg_overload(int x) { return x; }
double reg_overload(double x) { return -x; }
MPIPLY_REGISTER_AS("reg_overload_double", static_cast<double (*)(double)>(&reg_overload));

// Registered at run time (on every rank, before run) by a test below.
int reg_cube(int x) { return x * x * x; }
namespace physics {
// Never registered (the test of the unregistered function's message).
double reg_forgotten(double x) { return x - 1; }
}  // namespace physics
// Registered on some ranks only, to make them disagree.
int reg_partial(int x) { return x; }

TEST_CASE("registered functions are callable and found by name", "[registry]") {
  int rc = run_client([](mpiply::Client& c) {
    CHECK(c.load_balanced_view().apply(reg_square, 7) == 49);
    CHECK(c[mpiply::all].apply(physics::reg_step, 1.0) ==
          std::vector<double>(c.ids().size(), 1.5));
    CHECK(c[0].apply(static_cast<double (*)(double)>(&reg_overload), 2.0) == -2.0);
    const auto& e = mpiply::detail::lookup_by_name("reg_square");
    CHECK(e.name == "reg_square");
    CHECK(e.id == mpiply::detail::hash_name("reg_square"));
    CHECK(mpiply::detail::lookup_by_name("physics::reg_step").name == "physics::reg_step");
    CHECK(mpiply::detail::lookup_by_name("reg_overload_double").name == "reg_overload_double");
    // The name travels with results so errors and metadata can say which function ran.
    auto ar = c[0].apply_async(reg_square, 2);
    CHECK(ar.function() == "reg_square");
    ar.get();
    CHECK(ar.metadata().at(0).function == "reg_square");
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("lookup_by_name of an unknown name raises UsageError listing names", "[registry]") {
  try {
    (void)mpiply::detail::lookup_by_name("nope");
    FAIL_CHECK("lookup_by_name(\"nope\") did not throw");
  } catch (const mpiply::UsageError& e) {
    std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("nope"));
    CHECK_THAT(what, Catch::Contains("reg_square"));
    CHECK_THAT(what, Catch::Contains("physics::reg_step"));
  }
  auto names = mpiply::detail::registered_names();
  CHECK(std::find(names.begin(), names.end(), "reg_square") != names.end());
  CHECK(mpiply::detail::registration_problems().empty());
}

TEST_CASE("an unregistered function's error names the function", "[registry]") {
  // Not registered anywhere: the message must name it (from the symbol table), not only give
  // an address, so the user knows which MPIPLY_REGISTER is missing.
  int rc = run_client([](mpiply::Client& c) {
    try {
      c.load_balanced_view().apply_async(physics::reg_forgotten, 1.0);
      FAIL_CHECK("applying an unregistered function did not throw");
    } catch (const mpiply::UsageError& e) {
      std::string what = e.what();
      CHECK_THAT(what, Catch::Contains("physics::reg_forgotten(double)"));
      CHECK_THAT(what, Catch::Contains("MPIPLY_REGISTER"));
      CHECK_THAT(what, Catch::Contains("reg_square"));
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("register_function at run time on every rank makes a function callable",
          "[registry]") {
  CHECK(mpiply::register_function("reg_cube", reg_cube));
  // Registering the same function under the same name again is harmless.
  CHECK(mpiply::register_function("reg_cube", reg_cube));
  int rc = run_client([](mpiply::Client& c) {
    CHECK(c.load_balanced_view().apply(reg_cube, 3) == 27);
    CHECK(c[mpiply::all].apply(reg_cube, 2) == std::vector<int>(c.ids().size(), 8));
    return 0;
  });
  mpiply::detail::remove_function("reg_cube");
  REQUIRE(rc == 0);
  CHECK_THROWS_AS(mpiply::detail::lookup_by_name("reg_cube"), mpiply::UsageError);
  // A thread keeps its last look-up only while the table stays frozen: in the next run the
  // removed function is refused (not found through a look-up kept from the last run).
  rc = run_client([](mpiply::Client& c) {
    CHECK_THROWS_AS(c.load_balanced_view().apply(reg_cube, 3), mpiply::UsageError);
    CHECK_THROWS_AS(mpiply::detail::lookup_by_key(reinterpret_cast<const void*>(&reg_cube)),
                    mpiply::UsageError);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("engines registering a function rank 0 lacks: start-up fails on every rank",
          "[registry]") {
  if (world_size() == 1) return;  // nothing to disagree with
  if (world_rank() != 0) mpiply::register_function("only_on_engines", reg_partial);
  bool ran = false;
  int rc = run_client([&](mpiply::Client&) {
    ran = true;
    return 0;
  });
  mpiply::detail::remove_function("only_on_engines");
  CHECK(rc == mpiply::kExitStartupFailed);
  CHECK_FALSE(ran);
}

TEST_CASE("rank 0 registering a function the engines lack: start-up fails on every rank",
          "[registry]") {
  if (world_size() == 1) return;
  if (world_rank() == 0) mpiply::register_function("only_on_client", reg_partial);
  bool ran = false;
  int rc = run_client([&](mpiply::Client&) {
    ran = true;
    return 0;
  });
  mpiply::detail::remove_function("only_on_client");
  CHECK(rc == mpiply::kExitStartupFailed);
  CHECK_FALSE(ran);
}

TEST_CASE("only the last engine disagreeing is enough to stop every rank", "[registry]") {
  if (world_size() < 3) return;  // needs an engine that agrees and one that does not
  if (world_rank() == world_size() - 1) mpiply::register_function("only_on_last", reg_partial);
  bool ran = false;
  int rc = run_client([&](mpiply::Client&) {
    ran = true;
    return 0;
  });
  mpiply::detail::remove_function("only_on_last");
  CHECK(rc == mpiply::kExitStartupFailed);
  CHECK_FALSE(ran);
}

// Same name, other types: engines would decode a double's bytes as a long.
double reg_sig_double(double x) { return x * 2; }
long reg_sig_long(long x) { return x * 2; }

TEST_CASE("a function registered with another signature on an engine: start-up fails",
          "[registry]") {
  if (world_size() == 1) return;
  if (world_rank() == world_size() - 1)
    mpiply::register_function("reg_sig", reg_sig_long);
  else
    mpiply::register_function("reg_sig", reg_sig_double);
  bool ran = false;
  int rc = run_client([&](mpiply::Client& c) {
    ran = true;
    return c[-1].apply(reg_sig_double, 2.5) == 5.0 ? 0 : 1;
  });
  mpiply::detail::remove_function("reg_sig");
  CHECK(rc == mpiply::kExitStartupFailed);
  CHECK_FALSE(ran);
}

TEST_CASE("a registered function's signature lists its parameter and result types",
          "[registry]") {
  CHECK(mpiply::detail::lookup_by_name("reg_square").signature == "int(int)");
  CHECK(mpiply::detail::lookup_by_name("physics::reg_step").signature == "double(double)");
  CHECK(mpiply::detail::signature_name<void, const std::vector<int>&, long>() ==
        "void(std::vector<int, std::allocator<int> >, long)");
  CHECK(mpiply::detail::signature_name<int>() == "int()");
}

TEST_CASE("after a failed start-up, agreeing ranks start normally again", "[registry]") {
  int rc = run_client([](mpiply::Client& c) {
    CHECK(c[-1].apply(reg_square, 5) == 25);
    return 0;
  });
  REQUIRE(rc == 0);
}
