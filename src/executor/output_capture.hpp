#pragma once
// Capturing one task's stdout and stderr on its engine (MPIPLY_CAPTURE, docs/output.md). For the
// task's duration file descriptors 1 and 2 point at two memory files (memfd), so whatever writes
// them is caught: std::cout, printf, write(1, ...), and child processes the task starts. A memory
// file never blocks a writer, unlike a pipe (full at 64 KiB). At the end the C and C++ streams
// are flushed into the files and the text read back, cut at the cap.
//
// Descriptors 1 and 2 belong to the whole process, so at most one capture runs in a process at a
// time: a capture holds a process-wide lock, and tasks of a threaded engine that capture run one
// after another (isolated tasks capture in their own worker process, so they do not wait). A
// single-threaded engine, whose captures all come from one thread, skips the lock.
//
// Cost: on an engine rank (and in a worker process) the descriptors stay on the memory files
// from the first capture until output_capture_release(), so a task that writes nothing costs
// one lseek per stream and no dup2. On rank 0, whose own output must reach the terminal, they
// are put back after every task.
#include <cstdint>
#include <mutex>
#include <string>

namespace mpiply::detail {

class OutputCapture {
 public:
  // Starts capturing (flushes what the streams hold first: that is not the task's). If the
  // memory files cannot be made, nothing is captured and finish() returns a line saying why.
  // live: the output is readable while the task (msg) runs (read_live_output).
  explicit OutputCapture(std::uint64_t cap, bool live = false, std::uint64_t msg = 0);
  ~OutputCapture();  // restores the descriptors if finish() was not called
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  // Flushes, restores descriptors 1 and 2 (unless they stay redirected), and gives what the
  // task wrote to each, each cut at the cap with a line saying how many bytes were dropped.
  void finish(std::string& out, std::string& err);

 private:
  void restore();

  std::uint64_t cap_;
  std::unique_lock<std::mutex> lock_;
  bool redirected_ = false;
  bool live_ = false;
  bool watched_ = false;  // syscall_watch armed for the task (keep mode)
  std::string problem_;
};

// Engine ranks: from now on descriptors 1 and 2 stay on the memory files between tasks.
// output_capture_release() puts them back (and writes out whatever landed there since the last
// task, so nothing is lost). one_thread: every capture of this process, and the release, come
// from the calling thread (a single-threaded engine), so captures skip the process-wide lock.
void output_capture_keep_redirected(bool one_thread) noexcept;
void output_capture_release() noexcept;

// Called first thing in a forked worker process: it is single-threaded, so its captures need no
// lock (and the lock's copy may have been held by another thread at the fork); it makes memory
// files of its own and keeps them on 1 and 2.
void output_capture_in_child() noexcept;

// Points descriptors 1 and 2 back at the process's own stdout and stderr if a capture had
// redirected them. Async-signal-safe: the crash handler calls it so its note (and Open MPI's
// backtrace) reach the engine's stderr, not a memory file that dies with the process.
void restore_output_for_crash() noexcept;

// The output the running live capture (OutputCapture with a msg id) wrote since the last call:
// its msg id, and each stream's new bytes with their offset in the task's output. False when no
// live capture runs. Called by the engine's MPI thread while a worker thread runs the task.
struct LiveChunk {
  std::uint64_t msg = 0;
  std::uint64_t offset[2] = {0, 0};
  std::string text[2];
};
bool read_live_output(LiveChunk& chunk);

// "\n[mpiply: 123 more bytes of stdout were dropped: the cap is 100 bytes (MPIPLY_OUTPUT_CAP)]\n"
std::string output_cut_marker(const char* stream, std::uint64_t dropped, std::uint64_t cap);

}  // namespace mpiply::detail
