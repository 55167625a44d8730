// Messages over MPI's one-message limit (2 GiB; lowered here to 100 kB through
// MPIPLY_MAX_MESSAGE_BYTES so the test stays small) fail only the task concerned, with an error
// that names the fix; the engine keeps serving and nothing already computed is lost.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

std::size_t length_of(const std::vector<char>& v) { return v.size(); }
std::vector<char> bytes_of(int n) { return std::vector<char>(static_cast<std::size_t>(n), 'x'); }

// Set before the library first reads it (at the first message of this process), on every rank.
const bool limit_set = [] { return setenv("MPIPLY_MAX_MESSAGE_BYTES", "100000", 1) == 0; }();

void check_too_large(const mpiply::RemoteError& e, const char* fix) {
  CHECK(e.ename() == "mpiply::MessageTooLarge");
  CHECK_THAT(std::string(e.what()), Catch::Contains(fix));
}

}  // namespace

MPIPLY_REGISTER(length_of);
MPIPLY_REGISTER(bytes_of);

TEST_CASE("a task message over the limit fails that task only", "[limits]") {
  REQUIRE(limit_set);
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lbv = c.load_balanced_view();
    auto small = lbv.apply_async(length_of, std::vector<char>(1000, 'a'));
    auto big = lbv.apply_async(length_of, std::vector<char>(200000, 'b'));
    try {
      big.get();
      FAIL("a 200 kB argument should fail with a 100 kB limit");
    } catch (const mpiply::RemoteError& e) {
      check_too_large(e, "push large arrays");
    }
    CHECK(small.get() == 1000u);
    CHECK(lbv.apply_sync(length_of, std::vector<char>(50000, 'c')) == 50000u);
  });
  REQUIRE(rc == 0);
}

TEST_CASE("a result over the limit comes back as an error; the engine keeps serving", "[limits]") {
  REQUIRE(limit_set);
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto e0 = c[0];
    try {
      e0.apply_sync(bytes_of, 200000);
      FAIL("a 200 kB result should fail with a 100 kB limit");
    } catch (const mpiply::RemoteError& e) {
      check_too_large(e, "return it in parts");
      CHECK(e.engine_id() == 0);
    }
    CHECK(e0.apply_sync(bytes_of, 60000).size() == 60000u);
    // In a map only the chunk whose result is too large fails; the others are kept.
    std::vector<int> sizes{10, 20, 200000, 30};
    auto amr = c.load_balanced_view().map_async(bytes_of, sizes);
    try {
      amr.get();
      FAIL("the 200 kB item should fail");
    } catch (const mpiply::CompositeError& ce) {
      REQUIRE(ce.errors().size() == 1u);
      CHECK(ce.errors()[0].index == 2u);
      CHECK(ce.errors()[0].error.ename() == "mpiply::MessageTooLarge");
    }
    CHECK(amr.value(3).size() == 30u);
  });
  REQUIRE(rc == 0);
}
