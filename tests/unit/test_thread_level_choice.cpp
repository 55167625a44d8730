// The MPI thread level mpiply asks for (src/runtime/thread_level.hpp), as logic: the default on
// Open MPI and on another MPI, every name MPIPLY_MPI_THREAD_LEVEL takes, and the messages for a
// name that is not a level and for a level below what mpiply needs.
#include <catch2/catch.hpp>
#include <mpi.h>

#include "runtime/thread_level.hpp"

using mpiply::detail::choose_thread_level;

TEST_CASE("unset: SINGLE on Open MPI, SERIALIZED on another MPI", "[thread_level]") {
  for (const char* unset : {static_cast<const char*>(nullptr), ""}) {
    auto om = choose_thread_level(unset, true);
    CHECK(om.requested == MPI_THREAD_SINGLE);
    CHECK(om.needed == MPI_THREAD_SINGLE);
    CHECK(om.error.empty());
    auto other = choose_thread_level(unset, false);
    CHECK(other.requested == MPI_THREAD_SERIALIZED);
    CHECK(other.needed == MPI_THREAD_SERIALIZED);
    CHECK(other.error.empty());
  }
  CHECK(mpiply::detail::mpi_is_open_mpi());  // the stack this suite is built on
}

TEST_CASE("every level by name, in any case, with or without MPI_THREAD_", "[thread_level]") {
  struct Case {
    const char* name;
    int level;
  };
  for (Case c : {Case{"single", MPI_THREAD_SINGLE}, Case{"funneled", MPI_THREAD_FUNNELED},
                 Case{"serialized", MPI_THREAD_SERIALIZED}, Case{"multiple", MPI_THREAD_MULTIPLE},
                 Case{"MULTIPLE", MPI_THREAD_MULTIPLE},
                 Case{"MPI_THREAD_SERIALIZED", MPI_THREAD_SERIALIZED},
                 Case{"mpi_thread_single", MPI_THREAD_SINGLE}}) {
    auto got = choose_thread_level(c.name, true);
    INFO(c.name);
    CHECK(got.requested == c.level);
    CHECK(got.needed == c.level);  // the program asked for it: less will not do
    CHECK(got.named);
    CHECK(got.error.empty());
  }
  CHECK_FALSE(choose_thread_level(nullptr, true).named);
  CHECK(choose_thread_level("multiple", false).requested == MPI_THREAD_MULTIPLE);
  CHECK(choose_thread_level("serialized", false).error.empty());
}

TEST_CASE("a bad name says what is wrong and the names to use", "[thread_level]") {
  auto got = choose_thread_level("sometimes", true);
  CHECK_THAT(got.error,
             Catch::Matches("mpiply: MPIPLY_MPI_THREAD_LEVEL='sometimes' is not an MPI thread "
                            "level; use single, funneled, serialized or multiple, or unset it "
                            "\\(MPI_THREAD_SINGLE on this MPI\\)"));
  CHECK_FALSE(choose_thread_level("thread_single", true).error.empty());
}

TEST_CASE("below SERIALIZED on another MPI is refused with the fix", "[thread_level]") {
  for (const char* low : {"single", "funneled"}) {
    auto got = choose_thread_level(low, false);
    INFO(low);
    CHECK_THAT(got.error, Catch::Contains("is below what mpiply needs on this MPI "
                                          "(MPI_THREAD_SERIALIZED") &&
                              Catch::Contains("use serialized or multiple, or unset it"));
  }
}
