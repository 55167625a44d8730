// Capturing a task's stdout and stderr into memory files (see output_capture.hpp).
#include "executor/output_capture.hpp"

#include <fcntl.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ext/stdio_sync_filebuf.h>
#include <iostream>

#include <fmt/format.h>

#include "executor/published_data.hpp"
#include "executor/syscall_watch.hpp"

namespace mpiply::detail {

namespace {

std::mutex g_capture_mu;
bool g_in_child = false;
bool g_one_thread = false;  // captures come from one thread only: no lock (keep_redirected)
bool g_keep = false;        // descriptors 1 and 2 stay on the files between tasks
bool g_redirected = false;  // they point at the files now (keep mode)

// One pair of memory files per process, made at its first capture and emptied after each one
// (captures run one at a time). A forked worker makes its own (output_capture_in_child).
struct Files {
  int fd[2] = {-1, -1};
};
Files g_files;
// Descriptors 1 and 2 as they were at the process's first capture, kept open to put them back
// (one dup2 each, instead of a dup and a close). A worker inherits them: they are the engine's
// own stdout and stderr.
Files g_saved;

// The live capture the engine's MPI thread reads (read_live_output).
struct Live {
  std::mutex mu;
  bool active = false;
  std::uint64_t msg = 0, cap = 0;
  std::uint64_t shipped[2] = {0, 0};
};
Live g_live_output;

// A C++ stream synchronised with stdio (the default) writes straight into stdout's FILE, so
// flushing the FILE is enough; only a stream with a buffer of its own is flushed itself.
// The buffer last found synchronised, per stream, saves the dynamic_cast on later tasks.
std::streambuf* g_sync[3] = {nullptr, nullptr, nullptr};

[[gnu::noinline]] bool flush_cxx(std::ostream& os, std::streambuf*& known_sync) {
  std::streambuf* b = os.rdbuf();
  if (!b) return false;
  if (dynamic_cast<__gnu_cxx::stdio_sync_filebuf<char>*>(b)) {
    known_sync = b;
    return false;
  }
  os.flush();
  return true;
}

// Cheap when nothing is pending: no lock, no system call, no call out of line but __fpending's
// (it runs twice per task; the check was half of what capture still cost a silent task).
// Returns whether anything may have been written (a stream with a buffer of its own counts,
// whatever it held).
inline bool flush_streams() {
  bool any = false;
  if (std::cout.rdbuf() != g_sync[0]) any = flush_cxx(std::cout, g_sync[0]);
  if (std::cerr.rdbuf() != g_sync[1]) any = flush_cxx(std::cerr, g_sync[1]) || any;
  if (std::clog.rdbuf() != g_sync[2]) any = flush_cxx(std::clog, g_sync[2]) || any;
  if (__fpending(stdout) != 0) {
    std::fflush(stdout);
    any = true;
  }
  if (__fpending(stderr) != 0) {
    std::fflush(stderr);
    any = true;
  }
  return any;
}

bool ensure_files(std::string& problem) {
  if (g_files.fd[0] >= 0) return true;
  const char* names[2] = {"mpiply-stdout", "mpiply-stderr"};
  for (int i = 0; i < 2; ++i) {
    g_files.fd[i] = memfd_create(names[i], MFD_CLOEXEC);
    if (g_files.fd[i] < 0) {
      problem = fmt::format("[mpiply: the task's output was not captured: memfd_create: {}]\n",
                            std::strerror(errno));
      if (i == 1) close(g_files.fd[0]);
      g_files = {};
      return false;
    }
  }
  return true;
}

bool ensure_saved(std::string& problem) {
  if (g_saved.fd[0] >= 0) return true;
  for (int i = 0; i < 2; ++i) {
    g_saved.fd[i] = fcntl(i + 1, F_DUPFD_CLOEXEC, 3);
    if (g_saved.fd[i] < 0) {
      problem = fmt::format("[mpiply: the task's output was not captured: dup: {}]\n",
                            std::strerror(errno));
      if (i == 1) close(g_saved.fd[0]);
      g_saved = {};
      return false;
    }
  }
  return true;
}

std::uint64_t read_at(int fd, char* dst, std::uint64_t n, std::uint64_t at) {
  std::uint64_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, dst + got, n - got, static_cast<off_t>(at + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::uint64_t>(r);
  }
  return got;
}

// Reads what fd holds (at most cap bytes, then the marker) and empties it for the next task.
std::string take(int fd, const char* stream, std::uint64_t cap) {
  // Descriptor 1 (2) shares the file's offset, so the offset is what the task wrote (a writer
  // that seeks back is covered by the end of the file, read when the offset moved at all).
  off_t size = lseek(fd, 0, SEEK_CUR);
  if (size == 0) return {};  // the usual case: one system call, nothing to empty
  if (size < 0)
    return fmt::format("[mpiply: the task's {} could not be read back: {}]\n", stream,
                       std::strerror(errno));
  size = std::max(size, lseek(fd, 0, SEEK_END));
  std::string s;
  std::uint64_t keep = std::min<std::uint64_t>(static_cast<std::uint64_t>(size), cap);
  s.resize(keep);
  s.resize(read_at(fd, s.data(), keep, 0));
  if (static_cast<std::uint64_t>(size) > cap)
    s += output_cut_marker(stream, static_cast<std::uint64_t>(size) - cap, cap);
  if (ftruncate(fd, 0) != 0) { /* the next task then reads stale bytes: rare, and visible */ }
  lseek(fd, 0, SEEK_SET);
  return s;
}

}  // namespace

std::string output_cut_marker(const char* stream, std::uint64_t dropped, std::uint64_t cap) {
  return fmt::format("\n[mpiply: {} more bytes of {} were dropped: the cap is {} bytes "
                     "(MPIPLY_OUTPUT_CAP)]\n",
                     dropped, stream, cap);
}

void output_capture_keep_redirected(bool one_thread) noexcept {
  g_keep = true;
  g_one_thread = one_thread;
}

void output_capture_release() noexcept {
  std::lock_guard lk(g_capture_mu);
  g_one_thread = false;
  if (!g_redirected) return;
  flush_streams();
  // What landed in the files since the last task (the engine's own messages) goes out now.
  for (int i = 0; i < 2; ++i) {
    std::string rest = take(g_files.fd[i], i == 0 ? "stdout" : "stderr", UINT64_MAX);
    dup2(g_saved.fd[i], i + 1);
    if (!rest.empty() && write(i + 1, rest.data(), rest.size()) < 0) { /* nowhere to report */ }
  }
  g_redirected = false;
}

void output_capture_in_child() noexcept {
  g_in_child = true;
  g_keep = true;
  g_files = {};  // the engine's files stay open here (close-on-exec only); they are not ours
  g_redirected = false;
  g_live_output.active = false;
  set_live_data(false);  // a worker process's tasks are not streamed
  syscall_watch_in_child();
}

void restore_output_for_crash() noexcept {
  if (g_saved.fd[0] >= 0) dup2(g_saved.fd[0], 1);
  if (g_saved.fd[1] >= 0) dup2(g_saved.fd[1], 2);
}

OutputCapture::OutputCapture(std::uint64_t cap, bool live, std::uint64_t msg) : cap_(cap) {
  // An uncontended lock and unlock cost little beside what capture adds to a silent task.
  if (!g_in_child && !g_one_thread) lock_ = std::unique_lock(g_capture_mu);
  flush_streams();
  if (!ensure_files(problem_) || !ensure_saved(problem_)) return;
  if (!g_redirected) {
    for (int i = 0; i < 2; ++i) {
      if (dup2(g_files.fd[i], i + 1) < 0) {
        problem_ = fmt::format("[mpiply: the task's output was not captured: dup2: {}]\n",
                               std::strerror(errno));
        if (i == 1) dup2(g_saved.fd[0], 1);
        return;
      }
    }
    g_redirected = true;
  }
  redirected_ = true;
  if (live) {
    std::lock_guard lk(g_live_output.mu);
    g_live_output.active = true;
    g_live_output.msg = msg;
    g_live_output.cap = cap;
    g_live_output.shipped[0] = g_live_output.shipped[1] = 0;
    live_ = true;
  }
  // Last, so that nothing above counts: a task that makes no system call wrote nothing.
  if (g_keep) watched_ = syscall_watch_arm();
}

OutputCapture::~OutputCapture() {
  if (watched_) syscall_watch_disarm();
  if (redirected_) {
    flush_streams();
    restore();
  }
}

void OutputCapture::restore() {
  if (live_) {
    std::lock_guard lk(g_live_output.mu);
    g_live_output.active = false;
    live_ = false;
  }
  redirected_ = false;
  if (g_keep || !g_redirected) return;
  for (int i = 0; i < 2; ++i) dup2(g_saved.fd[i], i + 1);
  g_redirected = false;
}

void OutputCapture::finish(std::string& out, std::string& err) {
  // First: the flush below may write.
  bool silent = watched_ && !syscall_watch_disarm();
  watched_ = false;
  bool captured = redirected_;
  if (flush_streams()) silent = false;
  restore();
  if (!problem_.empty() || !captured) {
    out.clear();
    err = problem_;
  } else if (silent) {
    // No system call on this thread and nothing buffered: the usual case costs no system call.
    // (What another thread wrote meanwhile stays in the files for a later task, as documented.)
    out.clear();
    err.clear();
  } else {
    out = take(g_files.fd[0], "stdout", cap_);
    err = take(g_files.fd[1], "stderr", cap_);
  }
  if (lock_.owns_lock()) lock_.unlock();
}

bool read_live_output(LiveChunk& chunk) {
  std::lock_guard lk(g_live_output.mu);
  if (!g_live_output.active) return false;
  chunk.msg = g_live_output.msg;
  for (int i = 0; i < 2; ++i) {
    chunk.text[i].clear();
    chunk.offset[i] = g_live_output.shipped[i];
    struct stat st{};
    if (fstat(g_files.fd[i], &st) != 0) continue;
    std::uint64_t end = std::min<std::uint64_t>(static_cast<std::uint64_t>(st.st_size), g_live_output.cap);
    if (end <= g_live_output.shipped[i]) continue;
    chunk.text[i].resize(end - g_live_output.shipped[i]);
    chunk.text[i].resize(read_at(g_files.fd[i], chunk.text[i].data(), end - g_live_output.shipped[i],
                                 g_live_output.shipped[i]));
    g_live_output.shipped[i] += chunk.text[i].size();
  }
  return true;
}

}  // namespace mpiply::detail
