// mpiply::run: every rank returns the code client_main produced; a throwing client_main gives
// kExitClientThrew everywhere (never a hang); tasks left queued when client_main returns are
// abandoned (they fail as aborted) and the job still ends; a bad setting on any rank stops every
// rank. The checks after run() execute on every rank.
#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

using mpiply_test::RestoreEnv;

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

std::vector<char> run_bytes(int n) { return std::vector<char>(static_cast<std::size_t>(n), 'x'); }
MPIPLY_REGISTER(run_bytes);

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
}

TEST_CASE("mpiply's exit codes are distinct and clear of small codes and signals", "[run]") {
  std::vector<int> codes{mpiply::kExitClientThrew, mpiply::kExitStartupFailed,
                         mpiply::kExitInternalError, mpiply::kExitShutdownTimeout,
                         mpiply::kExitInterrupted};
  for (std::size_t i = 0; i < codes.size(); ++i) {
    CHECK(codes[i] > 78);   // above sysexits.h
    CHECK(codes[i] < 126);  // below the shell's own and 128 + signal
    for (std::size_t j = 0; j < i; ++j) CHECK(codes[i] != codes[j]);
  }
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
  std::vector<mpiply::AsyncResult<int>> kept;
  int rc = mpiply::run(1, dummy_argv, [&](mpiply::Client& c) {
    int n = c.inline_mode() ? 3 : 400;
    auto lbv = c.load_balanced_view();
    for (int i = 0; i < n; ++i) {
      auto ar = lbv.apply_async(run_sleep_ms, 50);
      // Keep every tenth handle to inspect after run; drop the rest, which must not block.
      if (i % 10 == 0) kept.push_back(ar);
    }
    // Return without waiting: 400 x 50 ms of queued work must not all run (the ctest TIMEOUT
    // bounds this test).
    return 5;
  });
  CHECK(rc == 5);
  // Rank 0 holds the handles. Each task either ran (it was on an engine when client_main
  // returned) or was abandoned: it fails as mpiply::TaskAborted and its status says so.
  std::size_t finished = 0, aborted = 0;
  for (const auto& ar : kept) {
    REQUIRE(ar.ready());
    auto status = ar.metadata().at(0).status;
    if (status == mpiply::TaskStatus::ok) {
      CHECK(ar.get() == 50);
      ++finished;
      continue;
    }
    CHECK(status == mpiply::TaskStatus::aborted);
    try {
      (void)ar.get();
      FAIL_CHECK("an abandoned task returned a value");
    } catch (const mpiply::TaskAborted& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("client_main returned"));
    }
    ++aborted;
  }
  CHECK(finished + aborted == kept.size());
  if (kept.size() > 3) {
    // With engines only hwm tasks each were on them at first, and a few more went out as those
    // finished: most of the 400 were still queued when client_main returned.
    CHECK(aborted >= kept.size() / 2);
  }
}

TEST_CASE("a bad MPIPLY_ setting on one rank stops every rank before client_main", "[run]") {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  RestoreEnv grace_env("MPIPLY_SHUTDOWN_GRACE");
  // Only the last rank sees the bad value, as when an environment is not passed on uniformly.
  if (rank == size - 1) setenv("MPIPLY_SHUTDOWN_GRACE", "soon", 1);
  bool ran = false;
  int rc = mpiply::run(1, dummy_argv, [&](mpiply::Client&) {
    ran = true;
    return 0;
  });
  CHECK(rc == mpiply::kExitStartupFailed);
  CHECK_FALSE(ran);
}

TEST_CASE("valid settings take effect, and rank 0's values hold on every rank", "[run]") {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  RestoreEnv hwm_env("MPIPLY_HWM"), bytes_env("MPIPLY_MAX_MESSAGE_BYTES");
  setenv("MPIPLY_HWM", "2", 1);
  // Only rank 0 lowers the message limit: the engines must use its value for their results.
  if (rank == 0) setenv("MPIPLY_MAX_MESSAGE_BYTES", "100000", 1);
  int rc = mpiply::run(1, dummy_argv, [](mpiply::Client& c) {
    CHECK(c.hwm() == 2);
    try {
      (void)c[-1].apply(run_bytes, 200000);
      FAIL_CHECK("a 200 kB result passed a 100 kB limit");
    } catch (const mpiply::RemoteError& e) {
      CHECK(e.ename() == "mpiply::MessageTooLarge");
    }
    CHECK(c[-1].apply(run_bytes, 1000).size() == 1000u);
    return 0;
  });
  unsetenv("MPIPLY_HWM");
  unsetenv("MPIPLY_MAX_MESSAGE_BYTES");
  CHECK(rc == 0);
  // Unset again: the defaults are back for the next run.
  rc = mpiply::run(1, dummy_argv, [](mpiply::Client& c) {
    CHECK(c.hwm() == 4);  // the default
    CHECK(c[-1].apply(run_bytes, 200000).size() == 200000u);
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("RunOptions win over the environment, and bad ones stop every rank", "[run]") {
  RestoreEnv hwm_env("MPIPLY_HWM");
  setenv("MPIPLY_HWM", "2", 1);
  mpiply::RunOptions options;
  options.hwm = 7;
  options.shutdown_grace = mpiply::Seconds(5);
  int rc = mpiply::run(1, dummy_argv, options,
                       [](mpiply::Client& c) {
                         CHECK(c.hwm() == 7);
                         return 0;
                       });
  CHECK(rc == 0);
  // Options left empty fall back to the environment.
  rc = mpiply::run(1, dummy_argv, mpiply::RunOptions{}, [](mpiply::Client& c) {
    CHECK(c.hwm() == 2);
    return 0;
  });
  CHECK(rc == 0);
  unsetenv("MPIPLY_HWM");
  mpiply::RunOptions zero_hwm, negative_grace, long_drain;
  zero_hwm.hwm = 0;
  negative_grace.shutdown_grace = mpiply::Seconds(-1);
  long_drain.drain_grace = mpiply::Seconds(604'801);  // over a week
  for (const mpiply::RunOptions& bad : {zero_hwm, negative_grace, long_drain}) {
    bool ran = false;
    rc = mpiply::run(1, dummy_argv, bad, [&](mpiply::Client&) { ran = true; });
    CHECK(rc == mpiply::kExitStartupFailed);
    CHECK_FALSE(ran);
  }
}

TEST_CASE("run can be called again after each of the above", "[run]") {
  int rc = mpiply::run(1, dummy_argv, [](mpiply::Client& c) {
    CHECK(c.load_balanced_view().apply(run_sleep_ms, 1) == 1);
    CHECK(c.outstanding().empty());
    return 0;
  });
  CHECK(rc == 0);
}
