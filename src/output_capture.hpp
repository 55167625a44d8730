#pragma once
// Capturing one task's stdout and stderr on its engine (MPIPLY_CAPTURE, docs/output.md). For the
// task's duration file descriptors 1 and 2 point at two memory files (memfd), so whatever writes
// them is caught: std::cout, printf, write(1, ...), and child processes the task starts. A memory
// file never blocks a writer, unlike a pipe (full at 64 KiB). At the end the C and C++ streams
// are flushed into the files, the descriptors restored, and the text read back, cut at the cap.
//
// Descriptors 1 and 2 belong to the whole process, so at most one capture runs in a process at a
// time: a capture holds a process-wide lock, and tasks of a threaded engine that capture run one
// after another (isolated tasks capture in their own worker process, so they do not wait).
#include <cstdint>
#include <mutex>
#include <string>

namespace mpiply::detail {

class OutputCapture {
 public:
  // Starts capturing (flushes what the streams hold first: that is not the task's). If the
  // memory files cannot be made, nothing is captured and finish() returns a line saying why.
  explicit OutputCapture(std::uint64_t cap);
  ~OutputCapture();  // restores the descriptors if finish() was not called
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  // Flushes, restores descriptors 1 and 2, and gives what the task wrote to each, each cut at
  // the cap with a line saying how many bytes were dropped.
  void finish(std::string& out, std::string& err);

 private:
  void restore();

  std::uint64_t cap_;
  std::unique_lock<std::mutex> lock_;
  bool redirected_[2] = {false, false};
  std::string problem_;
};

// Called first thing in a forked worker process: it is single-threaded, so its captures need no
// lock (and the lock's copy may have been held by another thread at the fork).
void output_capture_in_child() noexcept;

// Points descriptors 1 and 2 back at the process's own stdout and stderr if a capture had
// redirected them. Async-signal-safe: the crash handler calls it so its note (and Open MPI's
// backtrace) reach the engine's stderr, not a memory file that dies with the process.
void restore_output_for_crash() noexcept;

// "\n[mpiply: 123 more bytes of stdout were dropped: the cap is 100 bytes (MPIPLY_OUTPUT_CAP)]\n"
std::string output_cut_marker(const char* stream, std::uint64_t dropped, std::uint64_t cap);

}  // namespace mpiply::detail
