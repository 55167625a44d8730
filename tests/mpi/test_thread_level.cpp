// The MPI thread level mpiply asks for (src/runtime/thread_level.hpp): on Open MPI
// MPI_THREAD_SINGLE, since there the level only decides whether Open MPI locks inside its own
// calls and mpiply's lock already keeps rank 0's two MPI threads apart; MPIPLY_MPI_THREAD_LEVEL
// names another (ctest also runs this file with serialized and multiple). At every level,
// rank 0's progress thread and the threads waiting on results take turns at MPI: a
// 20,000-item chunksize-1 map, 1 MB round trips to every engine and two user threads submitting
// and waiting at once all come back right.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

namespace {

long long tl_square(int x) { return static_cast<long long>(x) * x; }
MPIPLY_REGISTER(tl_square);

std::vector<double> tl_reversed(std::vector<double> v) {
  std::reverse(v.begin(), v.end());
  return v;
}
MPIPLY_REGISTER(tl_reversed);

// What this test expects MPI_Query_thread to say: the level named in MPIPLY_MPI_THREAD_LEVEL,
// else MPI_THREAD_SINGLE (the suite builds against Open MPI only).
int expected_level() {
  const char* v = std::getenv("MPIPLY_MPI_THREAD_LEVEL");
  if (v == nullptr || *v == '\0') return MPI_THREAD_SINGLE;
  if (std::strcmp(v, "serialized") == 0) return MPI_THREAD_SERIALIZED;
  if (std::strcmp(v, "multiple") == 0) return MPI_THREAD_MULTIPLE;
  FAIL("this test knows MPIPLY_MPI_THREAD_LEVEL unset, serialized or multiple, not " << v);
  return -1;
}

}  // namespace

TEST_CASE("MPI runs at the thread level mpiply asked for", "[thread_level]") {
  int provided = -1;
  MPI_Query_thread(&provided);
  CHECK(provided == expected_level());
}

TEST_CASE("rank 0's MPI threads take turns: a long map, 1 MB round trips, two waiting threads",
          "[thread_level]") {
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto lv = c.load_balanced_view();
    auto xs = mpiply_test::iota_vec(20'000);
    auto got = lv.map(tl_square, xs, {.chunksize = 1});
    REQUIRE(got.size() == xs.size());
    bool all_right = true;
    for (std::size_t i = 0; i < got.size(); ++i)
      all_right = all_right && got[i] == static_cast<long long>(i) * static_cast<long long>(i);
    CHECK(all_right);

    std::vector<double> mb(std::size_t(1) << 17);  // 1 MiB of doubles
    std::iota(mb.begin(), mb.end(), 0.5);
    std::vector<double> want(mb.rbegin(), mb.rend());
    for (int e : c.ids()) CHECK(c[e].apply(tl_reversed, mb) == want);

    // Two user threads submit and wait while this one maps: three threads and the progress
    // thread drive MPI in turn. (Catch2's CHECK is not thread-safe: the threads count.)
    std::vector<int> bad(2, 0);
    auto worker = [&](int k) {
      for (int i = 0; i < 500; ++i)
        if (lv.apply(tl_square, 1000 * k + i) !=
            static_cast<long long>(1000 * k + i) * (1000 * k + i))
          ++bad[std::size_t(k)];
    };
    std::thread a(worker, 0), b(worker, 1);
    auto more = lv.map(tl_square, mpiply_test::iota_vec(5'000), {.chunksize = 1});
    a.join();
    b.join();
    CHECK(bad == std::vector<int>{0, 0});
    CHECK(more.size() == 5'000);
    CHECK(more.back() == 4'999LL * 4'999LL);
    return 0;
  });
  CHECK(rc == 0);
}
