#pragma once
// Rank 0's side of live output and published data (docs/output.md). Engines that stream send
// kTagStream messages while tasks run (engine_stream.hpp); rank 0 keeps what arrived per running
// task (ar.stdout() shows it before the result), prints it as "[stdout:N] line" when asked
// (RunOptions::stream_print), and keeps each task's latest published data (ar.data()). A task's
// result carries its whole output and data: on arrival they replace the streamed copies, the
// lines not yet printed are printed, and stream messages for it that arrive later are dropped.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <mpi.h>

#include <mpiply/publish.hpp>

namespace mpiply::detail {

struct ResultOutput;

class LiveOutputs {
 public:
  LiveOutputs();
  bool streaming() const noexcept { return streaming_; }

  // Receives the stream messages waiting at rank 0 (lock held). running(msg, engine) says whether
  // msg is a task still out and which engine runs it; messages of others are dropped.
  int poll(MPI_Comm comm, const std::function<bool(std::uint64_t, int&)>& running);
  // One stream message from engine e (also the entry point for tests).
  void on_stream(const char* p, std::size_t n, int engine,
                 const std::function<bool(std::uint64_t, int&)>& running);
  // A task's checked result arrived: its final output and data.
  void on_result(std::uint64_t msg, int engine, const ResultOutput& o);

  // The task left the hub (purged or culled): its published data goes.
  void forget(std::uint64_t msg) {
    if (!data_.empty()) data_.erase(msg);
    if (!live_.empty()) live_.erase(msg);
  }
  // What arrived so far of a running task's stream (0 stdout, 1 stderr), or null.
  const std::string* live_text(std::uint64_t msg, int stream) const;
  // A task's latest published data, or null if it published none (yet).
  const DataMap* data(std::uint64_t msg) const;

 private:
  struct Task {
    std::string text[2];
    std::uint64_t printed[2] = {0, 0};
  };
  void print_lines(int engine, int stream, const std::string& text, std::uint64_t& printed,
                   bool final);

  bool streaming_, print_;
  std::unordered_map<std::uint64_t, Task> live_;
  std::unordered_map<std::uint64_t, DataMap> data_;
};

}  // namespace mpiply::detail
