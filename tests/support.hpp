#pragma once
// Shared by the Catch2 tests: run a client body in a fresh mpiply::run. MPI is set up once by
// tests/main.cpp, so every TEST_CASE may start and stop mpiply as often as it likes; every rank
// returns run's exit code, which the test then checks on every rank.
#include <utility>

#include <mpiply/mpiply.hpp>

namespace mpiply_test {

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

}  // namespace mpiply_test
