// mpiply::run: every rank returns the code client_main produced; a throwing client_main gives
// kExitClientThrew everywhere (never a hang); tasks left queued when client_main returns are
// abandoned and the job still ends. The checks after run() execute on every rank.
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

using namespace std::chrono_literals;

namespace {

char prog_name[] = "test_run";
char* dummy_argv[] = {prog_name, nullptr};

}  // namespace

int run_sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
MPIPLY_REGISTER(run_sleep_ms);

TEST_CASE("client_main's return value is run's result on every rank", "[run]") {
  int rc = mpiply::run(1, dummy_argv, [](mpiply::Client& c) {
    CHECK(c[0].apply(run_sleep_ms, 0) == 0);
    return 7;
  });
  CHECK(rc == 7);
}

TEST_CASE("a void client_main gives 0", "[run]") {
  bool ran = false;
  int rc = mpiply::run(1, dummy_argv, [&](mpiply::Client&) { ran = true; });
  CHECK(rc == 0);
  // Only rank 0 runs client_main; the engines serve.
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  CHECK(ran == (rank == 0));
}

TEST_CASE("client_main throwing std::runtime_error gives kExitClientThrew on every rank",
          "[run]") {
  int rc = mpiply::run(1, dummy_argv, [](mpiply::Client&) -> int {
    throw std::runtime_error("client_main fails on purpose");
  });
  CHECK(rc == mpiply::kExitClientThrew);
  CHECK(rc == 1);
}

TEST_CASE("client_main throwing a non-std value gives kExitClientThrew", "[run]") {
  int rc = mpiply::run(1, dummy_argv, [](mpiply::Client&) -> int { throw 17; });
  CHECK(rc == mpiply::kExitClientThrew);
}

TEST_CASE("client_main throwing with tasks in flight still ends the job", "[run]") {
  int rc = mpiply::run(1, dummy_argv, [](mpiply::Client& c) -> int {
    // Engines are busy (or, inline, already done) when the exception unwinds.
    auto ar = c[mpiply::all].apply_async(run_sleep_ms, 200);
    (void)ar;
    throw std::logic_error("gave up while tasks were running");
  });
  CHECK(rc == mpiply::kExitClientThrew);
}

TEST_CASE("a void client_main that throws gives kExitClientThrew", "[run]") {
  int rc = mpiply::run(1, dummy_argv,
                       [](mpiply::Client&) { throw std::runtime_error("void and throwing"); });
  CHECK(rc == mpiply::kExitClientThrew);
}

TEST_CASE("tasks still queued when client_main returns are abandoned and the job ends",
          "[run]") {
  // Without engines tasks run at submission, so keep the inline job short.
  int rc = mpiply::run(1, dummy_argv, [](mpiply::Client& c) {
    int n = c.inline_mode() ? 3 : 400;
    std::vector<mpiply::AsyncResult<int>> ars;
    auto lbv = c.load_balanced_view();
    for (int i = 0; i < n; ++i) ars.push_back(lbv.apply_async(run_sleep_ms, 50));
    // Return without waiting: 400 x 50 ms of queued work must not all run (the ctest TIMEOUT
    // bounds this test), and the dropped handles must not block.
    return 5;
  });
  CHECK(rc == 5);
}

TEST_CASE("run can be called again after each of the above", "[run]") {
  int rc = mpiply::run(1, dummy_argv, [](mpiply::Client& c) {
    CHECK(c.load_balanced_view().apply(run_sleep_ms, 1) == 1);
    CHECK(c.outstanding().empty());
    return 0;
  });
  CHECK(rc == 0);
}
