#pragma once
// Shared by the scheduling tests (dependencies, retries, schemes): small tasks that report
// where they ran or fail on purpose, and a gate that holds tasks on their engines until the
// test opens it. The gate is a file (every rank of these tests runs on one host), so a test
// waits on the gate itself, never on a sleep, and opens it whenever it has checked what it
// wanted to see while the tasks were held.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include <mpiply/mpiply.hpp>

namespace sched_test {

constexpr mpiply::Seconds kBound{120};

inline int add1(int x) { return x + 1; }
inline int where() { return mpiply::this_engine().id(); }
inline int where_item(int) { return mpiply::this_engine().id(); }
inline int fail_always(int x) {
  throw std::runtime_error("fail_always(" + std::to_string(x) + ")");
}
// Raises on engine `bad` only; elsewhere returns the engine's id.
inline int fail_on_engine(int bad, int) {
  int id = mpiply::this_engine().id();
  if (id == bad) throw std::runtime_error("engine " + std::to_string(bad) + " always fails");
  return id;
}
inline bool file_exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }
inline void touch(const std::string& path) {
  if (std::FILE* f = std::fopen(path.c_str(), "w")) std::fclose(f);
}
// Raises on its first attempt (any engine): the attempt leaves a marker file behind.
// Creating the marker is atomic (O_EXCL), so of tasks racing on engines exactly one fails.
inline int fail_first(std::string marker, int x) {
  int fd = open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
  if (fd >= 0) {
    close(fd);
    throw std::runtime_error("first attempt fails");
  }
  return x * 10;
}
// Returns x once the gate file exists; -1 if it never did within the bound.
inline int gate_item(std::string gate, int x) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(100);
  while (!file_exists(gate)) {
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return x;
}

// A fresh file name for a gate or a marker (rank 0's pid keeps concurrent tests apart).
inline std::string temp_path(const char* what) {
  static int n = 0;
  return "/tmp/mpiply-sched-" + std::to_string(getpid()) + "-" + what + "-" +
         std::to_string(n++);
}

// Removes a gate or marker file when the test ends.
struct TempFile {
  std::string path;
  explicit TempFile(const char* what) : path(temp_path(what)) { std::remove(path.c_str()); }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace sched_test

MPIPLY_REGISTER(sched_test::add1);
MPIPLY_REGISTER(sched_test::where);
MPIPLY_REGISTER(sched_test::where_item);
MPIPLY_REGISTER(sched_test::fail_always);
MPIPLY_REGISTER(sched_test::fail_on_engine);
MPIPLY_REGISTER(sched_test::fail_first);
MPIPLY_REGISTER(sched_test::gate_item);
