#pragma once
// Shared by the hub tests: a gate that holds an engine busy until the test opens it, so tasks
// can be arranged behind a running one without sleeping. The gate is a file; the task waits for
// it to exist (bounded), the test creates it.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <mpiply/engine.hpp>

namespace hub_test {

class Gate {
 public:
  Gate() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("mpiply-hub-gate-" + std::to_string(getpid()) + "-" + std::to_string(counter++)))
                .string();
    std::filesystem::remove(path_);
  }
  ~Gate() {
    std::filesystem::remove(path_);
    for (int e = 0; e < 8; ++e) std::filesystem::remove(started_path(path_, e));
  }
  const std::string& path() const { return path_; }
  void open() const { std::ofstream(path_) << "open\n"; }
  // Waits (at most 60 s) until a task on engine e is held at this gate: it has started, so an
  // abort can no longer stop it.
  bool wait_started(int e) const {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!std::filesystem::exists(started_path(path_, e)))
      if (std::chrono::steady_clock::now() > until) return false;
      else std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
  }
  static std::string started_path(const std::string& gate, int e) {
    return gate + ".started." + std::to_string(e);
  }

 private:
  std::string path_;
};

// On engine engine_id: says it started, then waits until the gate's file exists (at most 60 s,
// so a broken test fails instead of hanging).
inline void wait_for_gate(const std::string& path, int engine_id) {
  std::ofstream(Gate::started_path(path, engine_id)) << "started\n";
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(path) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace hub_test
