// The failures mpiply raises itself come back as types a user can catch, not only as ename text:
// MessageTooLarge, EncodeError, MessageDecodeError and TaskAborted, all RemoteErrors. get(),
// value(i), iteration and CompositeError::raise_exception rethrow the specific type, chosen by the
// kind code the error carries. The message limit is lowered to 100 kB (MPIPLY_MAX_MESSAGE_BYTES)
// so the over-limit cases stay small.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/serialization/string.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

// Set before the library first reads it (at the first message of this process), on every rank.
const bool limit_set = [] { return setenv("MPIPLY_MAX_MESSAGE_BYTES", "100000", 1) == 0; }();

// A value that travels through Boost.Serialization and can refuse to be written or read.
struct Fussy {
  std::string name;
  bool refuse_save = false;
  bool refuse_load = false;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    if constexpr (Ar::is_saving::value)
      if (refuse_save) throw std::runtime_error("Fussy refuses to be saved");
    ar & name & refuse_save & refuse_load;
    if constexpr (Ar::is_loading::value)
      if (refuse_load) throw std::runtime_error("Fussy refuses to be loaded");
  }
};

std::size_t te_length(const std::vector<char>& v) { return v.size(); }
std::vector<char> te_bytes(int n) { return std::vector<char>(static_cast<std::size_t>(n), 'x'); }
std::string te_name(const Fussy& f) { return f.name; }
Fussy te_make(bool refuse_load) { return Fussy{"made", false, refuse_load}; }
int te_hold(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

template <class E, class F>
void check_throws_kind(F&& f, mpiply::ErrorKind kind, const char* ename) {
  try {
    f();
    FAIL_CHECK("no error raised");
  } catch (const E& e) {
    CHECK(e.kind() == kind);
    CHECK(e.ename() == ename);
    // Still a RemoteError, for code that catches that.
    const mpiply::RemoteError& base = e;
    CHECK(base.msg_id() == e.msg_id());
  }
}

}  // namespace

MPIPLY_REGISTER(te_length);
MPIPLY_REGISTER(te_bytes);
MPIPLY_REGISTER(te_name);
MPIPLY_REGISTER(te_make);
MPIPLY_REGISTER(te_hold);

TEST_CASE("an over-limit task or result raises MessageTooLarge", "[errors][typed]") {
  REQUIRE(limit_set);
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    auto big_task = lbv.apply_async(te_length, std::vector<char>(200000, 'b'));
    check_throws_kind<mpiply::MessageTooLarge>([&] { big_task.get(); },
                                               mpiply::ErrorKind::message_too_large,
                                               "mpiply::MessageTooLarge");
    CHECK_THROWS_AS(big_task.get(), mpiply::RemoteError);  // the base still catches it
    auto e0 = c[0];
    check_throws_kind<mpiply::MessageTooLarge>([&] { e0.apply_sync(te_bytes, 200000); },
                                               mpiply::ErrorKind::message_too_large,
                                               "mpiply::MessageTooLarge");
    // In a map: the CompositeError keeps the kind, and rethrows the type.
    auto amr = lbv.map_async(te_bytes, std::vector<int>{10, 200000, 30});
    try {
      amr.get();
      FAIL_CHECK("the 200 kB item should fail");
    } catch (const mpiply::CompositeError& ce) {
      REQUIRE(ce.errors().size() == 1u);
      CHECK(ce.errors()[0].error.kind() == mpiply::ErrorKind::message_too_large);
      CHECK_THROWS_AS(ce.raise_exception(0), mpiply::MessageTooLarge);
    }
    CHECK_THROWS_AS(amr.value(1), mpiply::MessageTooLarge);
    auto it = amr.begin();
    ++it;
    CHECK_THROWS_AS(*it, mpiply::MessageTooLarge);
    CHECK(amr.value(2).size() == 30u);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("arguments rank 0 cannot encode raise EncodeError", "[errors][typed]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    // A map encodes each chunk when it is sent; the chunk whose argument fails never leaves.
    std::vector<Fussy> in{{"a"}, {"b", true}, {"c"}};
    auto amr = c.load_balanced_view().map_async(te_name, in);
    CHECK_THROWS_AS(amr.value(1), mpiply::EncodeError);
    check_throws_kind<mpiply::EncodeError>([&] { amr.value(1); }, mpiply::ErrorKind::encode,
                                           "mpiply::EncodeError");
    CHECK(amr.value(0) == "a");
    CHECK(amr.value(2) == "c");
    try {
      amr.get();
      FAIL_CHECK("the unencodable item should fail");
    } catch (const mpiply::CompositeError& ce) {
      REQUIRE(ce.errors().size() == 1u);
      CHECK(ce.errors()[0].index == 1u);
      CHECK_THAT(ce.errors()[0].error.evalue(), Catch::Contains("refuses to be saved"));
      CHECK_THROWS_AS(ce.raise_exception(0), mpiply::EncodeError);
    }
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a value that does not decode raises MessageDecodeError", "[errors][typed]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    // On rank 0: the result does not decode.
    check_throws_kind<mpiply::MessageDecodeError>([&] { lbv.apply_sync(te_make, true); },
                                                  mpiply::ErrorKind::decode,
                                                  "mpiply::MessageDecodeError");
    // On the engine: the argument does not decode; the engine says so with its own type name.
    try {
      lbv.apply_sync(te_name, Fussy{"x", false, true});
      FAIL_CHECK("the undecodable argument should fail");
    } catch (const mpiply::MessageDecodeError& e) {
      CHECK(e.kind() == mpiply::ErrorKind::decode);
      CHECK(e.ename() == "mpiply::ValueDecodeError");
      CHECK_THAT(e.evalue(), Catch::Contains("refuses to be loaded"));
    }
    // Both leave the job working.
    CHECK(lbv.apply_sync(te_make, false).name == "made");
  });
  REQUIRE(rc == 0);
}

TEST_CASE("tasks still queued when client_main returns raise TaskAborted", "[errors][typed]") {
  std::vector<mpiply::AsyncResult<int>> ars;
  std::vector<bool> sent;
  bool inline_mode = false;
  int hwm = 0;
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    inline_mode = c.inline_mode();
    hwm = c.hwm();
    auto e0 = c[0];
    // The first task holds engine 0 while the rest are submitted; what exceeds hwm stays queued.
    for (int i = 0; i < hwm + 2; ++i) ars.push_back(e0.apply_async(te_hold, i == 0 ? 1000 : 1));
    for (auto& ar : ars) sent.push_back(ar.sent());
    return 0;
  });
  REQUIRE(rc == 0);
  int aborted = 0;
  for (std::size_t i = 0; i < ars.size(); ++i) {
    INFO("task " << i);
    if (sent[i]) {
      CHECK(ars[i].get() == (i == 0 ? 1000 : 1));
      continue;
    }
    ++aborted;
    check_throws_kind<mpiply::TaskAborted>([&] { ars[i].get(); }, mpiply::ErrorKind::aborted,
                                           "mpiply::TaskAborted");
    CHECK(ars[i].metadata().at(0).status == mpiply::TaskStatus::aborted);
  }
  // Engines run tasks in order, and inline mode runs each at submission: nothing is left to abort
  // there. (On engine ranks run() returns without running client_main: no results to look at.)
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) CHECK(aborted == (inline_mode ? 0 : 2));
}
