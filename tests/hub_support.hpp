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
  ~Gate() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }
  void open() const { std::ofstream(path_) << "open\n"; }

 private:
  std::string path_;
};

// On the engine: waits until the gate's file exists (at most 60 s, so a broken test fails
// instead of hanging).
inline void wait_for_gate(const std::string& path) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(path) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace hub_test
