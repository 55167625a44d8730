// Remote errors: a task's exception comes back as RemoteError carrying where and what; several as
// CompositeError; the engine keeps serving; calling an unregistered function fails at the call
// site with the registered names.
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

using mpiply_test::run_client;

}  // namespace

int err_bad_x(int x) {
  if (x >= 0) throw std::invalid_argument("bad x");
  return x;
}
MPIPLY_REGISTER(err_bad_x);

int err_throw_int() { throw 42; }
MPIPLY_REGISTER(err_throw_int);

int err_plus_one(int x) { return x + 1; }
MPIPLY_REGISTER(err_plus_one);

// Fails only on engine 0, so a DirectView apply has a mix of values and errors.
int err_fail_on_zero() {
  int id = mpiply::this_engine().id();
  if (id == 0) throw std::runtime_error("engine zero refuses");
  return id;
}
MPIPLY_REGISTER(err_fail_on_zero);

// Deliberately not registered.
int err_unregistered(int x) { return x; }

TEST_CASE("a task throwing std::invalid_argument comes back as RemoteError", "[errors]") {
  int rc = run_client([](mpiply::Client& c) {
    int target = c.ids().back();
    auto ar = c[target].apply_async(err_bad_x, 1);
    auto host = [&] {
      ar.wait();
      return ar.metadata().at(0).hostname;
    }();
    try {
      ar.get();
      FAIL_CHECK("get() did not throw");
    } catch (const mpiply::RemoteError& e) {
      CHECK(e.engine_id() == target);
      CHECK_FALSE(e.hostname().empty());
      CHECK(e.hostname() == host);
      CHECK(e.function() == "err_bad_x");
      CHECK(e.msg_id() == ar.msg_ids().at(0));
      CHECK(e.ename() == "std::invalid_argument");
      CHECK(e.evalue() == "bad x");
      CHECK(e.kind() == mpiply::ErrorKind::raised);
      // The message carries the same facts for a user who only prints what().
      std::string what = e.what();
      CHECK_THAT(what, Catch::Contains("std::invalid_argument"));
      CHECK_THAT(what, Catch::Contains("bad x"));
      CHECK_THAT(what, Catch::Contains("err_bad_x"));
    }
    // A RemoteError is an mpiply::Error, catchable as std::exception too.
    CHECK_THROWS_AS(ar.get(), mpiply::Error);
    CHECK_FALSE(ar.successful());
    // Load-balanced apply fails the same way.
    CHECK_THROWS_AS(c.load_balanced_view().apply(err_bad_x, 0), mpiply::RemoteError);
    CHECK_THROWS_AS(c[target].apply(err_bad_x, 0), mpiply::RemoteError);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a task throwing a non-std value comes back as RemoteError with its type", "[errors]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ar = c[0].apply_async(err_throw_int);
    try {
      ar.get();
      FAIL_CHECK("get() did not throw");
    } catch (const mpiply::RemoteError& e) {
      CHECK(e.ename() == "int");
      CHECK(e.engine_id() == 0);
      CHECK(e.function() == "err_throw_int");
      CHECK(e.msg_id() == ar.msg_ids().at(0));
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("an engine keeps serving after a task raised; other tasks are unaffected", "[errors]") {
  int rc = run_client([](mpiply::Client& c) {
    for (int id : c.ids()) {
      CHECK_THROWS_AS(c[id].apply(err_bad_x, 1), mpiply::RemoteError);
      CHECK(c[id].apply(err_plus_one, 1) == 2);
      CHECK_THROWS_AS(c[id].apply(err_throw_int), mpiply::RemoteError);
      CHECK(c[id].apply(err_plus_one, 2) == 3);
    }
    // Interleaved: failures do not disturb the neighbours' results.
    auto lbv = c.load_balanced_view();
    std::vector<mpiply::AsyncResult<int>> good, bad;
    for (int i = 0; i < 10; ++i) {
      good.push_back(lbv.apply_async(err_plus_one, i));
      bad.push_back(lbv.apply_async(err_bad_x, i));
    }
    for (int i = 0; i < 10; ++i) {
      CHECK(good[i].get() == i + 1);
      CHECK(good[i].successful());
      CHECK_THROWS_AS(bad[i].get(), mpiply::RemoteError);
    }
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("DirectView apply where every engine throws raises CompositeError", "[errors]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ids = c.ids();
    auto ar = c.direct_view().apply_async(err_bad_x, 5);
    try {
      ar.get();
      FAIL_CHECK("get() did not throw");
    } catch (const mpiply::CompositeError& e) {
      const auto& errs = e.errors();
      REQUIRE(errs.size() == ids.size());
      for (std::size_t i = 0; i < errs.size(); ++i) {
        CHECK(errs[i].index == i);
        CHECK(errs[i].error.engine_id() == ids[i]);
        CHECK(errs[i].error.ename() == "std::invalid_argument");
        CHECK(errs[i].error.evalue() == "bad x");
        CHECK(errs[i].error.msg_id() == ar.msg_ids().at(i));
        CHECK(errs[i].error.kind() == mpiply::ErrorKind::raised);  // the function threw
      }
      // raise_exception rethrows one failure as the RemoteError it is.
      try {
        e.raise_exception(0);
      } catch (const mpiply::RemoteError& re) {
        CHECK(re.engine_id() == ids[0]);
        CHECK(re.evalue() == "bad x");
      }
      CHECK_THROWS_AS(e.raise_exception(0), mpiply::RemoteError);
      CHECK_THROWS_AS(e.raise_exception(errs.size()), mpiply::UsageError);
    }
    CHECK_THROWS_AS(c[mpiply::all].apply(err_bad_x, 5), mpiply::CompositeError);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a partly failing DirectView apply keeps the values that succeeded", "[errors]") {
  int rc = run_client([](mpiply::Client& c) {
    auto ids = c.ids();
    auto ar = c.direct_view().apply_async(err_fail_on_zero);
    try {
      ar.get();
      FAIL_CHECK("get() did not throw");
    } catch (const mpiply::CompositeError& e) {
      REQUIRE(e.errors().size() == 1);
      CHECK(e.errors()[0].index == 0);
      CHECK(e.errors()[0].error.engine_id() == 0);
      CHECK(e.errors()[0].error.evalue() == "engine zero refuses");
    }
    auto vals = ar.values_or_empty();
    REQUIRE(vals.size() == ids.size());
    CHECK_FALSE(vals[0].has_value());
    for (std::size_t i = 1; i < ids.size(); ++i) CHECK(vals[i] == ids[i]);
    CHECK_FALSE(ar.successful());
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("applying an unregistered function raises UsageError listing the names",
          "[errors]") {
  int rc = run_client([](mpiply::Client& c) {
    auto before = c.history().size();
    try {
      c.load_balanced_view().apply_async(err_unregistered, 1);
      FAIL_CHECK("apply_async did not throw");
    } catch (const mpiply::UsageError& e) {
      std::string what = e.what();
      CHECK_THAT(what, Catch::Contains("err_plus_one"));
      CHECK_THAT(what, Catch::Contains("err_bad_x"));
      CHECK_THAT(what, Catch::Contains("MPIPLY_REGISTER"));
    }
    CHECK_THROWS_AS(c[0].apply(err_unregistered, 1), mpiply::UsageError);
    CHECK_THROWS_AS(c[mpiply::all].apply_async(err_unregistered, 1), mpiply::UsageError);
    // Nothing was submitted: the failure is at the call site.
    CHECK(c.history().size() == before);
    // The client is still usable afterwards.
    CHECK(c[0].apply(err_plus_one, 41) == 42);
    return 0;
  });
  REQUIRE(rc == 0);
}

TEST_CASE("MpiError names the routine as a field, with MPI's own text for the code", "[errors]") {
  const mpiply::MpiError e("MPI_Isend", MPI_ERR_COMM);
  CHECK(e.routine() == "MPI_Isend");
  CHECK(e.code() == MPI_ERR_COMM);
  const std::string what = e.what();
  CHECK(what.find("MPI_Isend") != std::string::npos);
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(MPI_ERR_COMM, text, &len);
  CHECK(what.find(std::string(text, len)) != std::string::npos);
}
