#pragma once
// Shared by the isolation tests (test_isolation.cpp, test_isolation_modes.cpp): the tasks they
// run (registered here: include this header once per test binary) and their helpers.
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "support.hpp"

// A write to a page the process may not touch: a real segfault, which no sanitizer check stops
// first (a null pointer write would be caught by UBSan and end the worker with exit(1)).
inline void segfault() {
  void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *static_cast<volatile int*>(page) = 1;
}

// How each test task dies: a segfault, abort, exit(3), SIGKILL of itself.
inline long die(int how) {
  switch (how) {
    case 0: segfault(); break;
    case 1: std::abort();
    case 2: std::exit(3);
    case 3: kill(getpid(), SIGKILL); break;
  }
  return -1;  // not reached
}
inline long my_pid() { return static_cast<long>(getpid()); }
inline long pid_of(long) { return static_cast<long>(getpid()); }
inline long square(long x) { return x * x; }
// Dies on one item of a map.
inline long square_or_die(long x) {
  if (x == 13) die(0);
  return x * x;
}
// Runs for `seconds` (well past any limit the tests set), then returns.
inline long run_for(double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 1;
}
inline long add_to(long base, long x) { return base + x; }
// Sets a value in the namespace of the process it runs in.
inline long set_value(long v) {
  mpiply::this_engine().set("set_by_task", v);
  return v;
}
inline bool has_value(std::string name) { return mpiply::this_engine().contains(name); }
inline std::vector<double> reversed(std::vector<double> v) {
  return std::vector<double>(v.rbegin(), v.rend());
}
// Announces that it runs by creating `path`, then waits up to 60 s for a signal to end it.
inline long wait_for_signal(std::string path) {
  if (FILE* f = std::fopen(path.c_str(), "w")) std::fclose(f);
  run_for(60);
  return 0;
}

MPIPLY_REGISTER(die);
MPIPLY_REGISTER(my_pid);
MPIPLY_REGISTER(pid_of);
MPIPLY_REGISTER(square);
MPIPLY_REGISTER(square_or_die);
MPIPLY_REGISTER(run_for);
MPIPLY_REGISTER(add_to);
MPIPLY_REGISTER(set_value);
MPIPLY_REGISTER(has_value);
MPIPLY_REGISTER(reversed);
MPIPLY_REGISTER(wait_for_signal);

namespace isolation_test {

inline constexpr mpiply::Seconds kBound{120};
inline char arg0[] = "test_isolation";
inline char* argv[] = {arg0, nullptr};

inline mpiply::TaskFlags isolated() {
  mpiply::TaskFlags f;
  f.isolate = true;
  return f;
}
inline mpiply::TaskFlags limited(double seconds) {
  mpiply::TaskFlags f;
  f.time_limit = mpiply::Seconds(seconds);
  return f;
}
inline mpiply::RunOptions isolate_all(int threads = 1) {
  mpiply::RunOptions o;
  o.isolate = true;
  o.engine_threads = threads;
  return o;
}

// The error a task's get() raised, as T (a TaskCrashed, TaskTimeout...); fails the test if it
// raised something else or nothing.
template <class E, class R>
inline std::string error_of(R&& r) {
  try {
    r.get(kBound);
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected " << typeid(E).name() << ", got " << e.what());
  }
  FAIL("expected " << typeid(E).name() << ", the task succeeded");
  return {};
}

}  // namespace isolation_test
