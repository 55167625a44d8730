#pragma once
// Shared by the Catch2 tests: run a client body in a fresh mpiply::run. MPI is set up once by
// tests/support/main.cpp, so every TEST_CASE may start and stop mpiply as often as it likes; every rank
// returns run's exit code, which the test then checks on every rank.
#include <cstdlib>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <mpi.h>

#include <mpiply/mpiply.hpp>

// The sanitizer build's clang 14 cannot compile GCC 12's std::views (its ranges::begin concept
// fails on them), so the cases that hand std::views to map and imap are compiled where this is 1:
// GCC, the normal suite. Every other case runs in both.
#if defined(__clang__) && __clang_major__ <= 14
#define MPIPLY_TEST_STD_VIEWS 0
#else
#define MPIPLY_TEST_STD_VIEWS 1
#endif

namespace mpiply_test {

// A communicator of the test's own (a duplicate of MPI_COMM_WORLD), this rank and the size,
// freed when the test case leaves, however it leaves: for tests that drive mpiply's transport
// directly, beside any traffic of the MPI world.
struct OwnComm {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0, size = 0;
  OwnComm() {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
  }
  ~OwnComm() { MPI_Comm_free(&comm); }
  OwnComm(const OwnComm&) = delete;
  OwnComm& operator=(const OwnComm&) = delete;
};

inline char** test_argv() {
  static char name[] = "mpiply-test";
  static char* argv[] = {name, nullptr};
  return argv;
}

// body is client_main: int(Client&) or void(Client&).
template <class F>
int run_client(F&& body) {
  return mpiply::run(1, test_argv(), std::forward<F>(body));
}

// 0, 1, ..., n-1.
inline std::vector<int> iota_vec(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// A DirectView on every engine and, with two or more engines, one on the last and the first in
// that order: results must follow the view's target order, not the engine ids.
inline std::vector<mpiply::DirectView> all_and_reversed_views(const mpiply::Client& c) {
  std::vector<mpiply::DirectView> views{c.direct_view()};
  auto ids = c.ids();
  if (ids.size() >= 2) views.push_back(c[std::vector<int>{ids.back(), ids.front()}]);
  return views;
}

// A megabyte whose bytes depend on seed: a realistic size through a data path, easy to check.
inline std::vector<char> patterned_megabyte(int seed) {
  std::vector<char> v(1 << 20);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>((i * 31 + seed) & 0x7f);
  return v;
}

inline int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
inline int world_size() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// Puts an environment variable back, when it goes, as the whole test run had it.
struct RestoreEnv {
  std::string name;
  std::optional<std::string> old;
  explicit RestoreEnv(const char* n) : name(n) {
    if (const char* v = std::getenv(n)) old = v;
  }
  ~RestoreEnv() {
    if (old)
      setenv(name.c_str(), old->c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

}  // namespace mpiply_test
