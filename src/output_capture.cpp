// Capturing a task's stdout and stderr into memory files (see output_capture.hpp).
#include "output_capture.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

namespace mpiply::detail {

namespace {

std::mutex g_capture_mu;
bool g_in_child = false;

// One pair of memory files per thread, made at its first capture and emptied after each one.
// A forked worker has copies of its forking thread's descriptors, shared with the engine: the
// pid says whose they are, and a worker makes its own.
struct Files {
  pid_t owner = -1;
  int fd[2] = {-1, -1};
};
thread_local Files t_files;
// Descriptors 1 and 2 as they were at the process's first capture, kept open to put them back
// after each task (one dup2 each, instead of a dup and a close per task). A worker inherits
// them: they are the engine's own stdout and stderr.
Files g_saved;

void flush_streams() {
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(stdout);
  std::fflush(stderr);
}

bool ensure_files(std::string& problem) {
  pid_t me = getpid();
  if (t_files.owner == me && t_files.fd[0] >= 0) return true;
  // The engine's files stay open in a worker (close-on-exec only); they are not this process's.
  t_files = {};
  const char* names[2] = {"mpiply-stdout", "mpiply-stderr"};
  for (int i = 0; i < 2; ++i) {
    t_files.fd[i] = memfd_create(names[i], MFD_CLOEXEC);
    if (t_files.fd[i] < 0) {
      problem = fmt::format("[mpiply: the task's output was not captured: memfd_create: {}]\n",
                            std::strerror(errno));
      if (i == 1) close(t_files.fd[0]);
      t_files = {};
      return false;
    }
  }
  t_files.owner = me;
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
  {
    std::uint64_t keep = std::min<std::uint64_t>(static_cast<std::uint64_t>(size), cap);
    s.resize(keep);
    std::uint64_t got = 0;
    while (got < keep) {
      ssize_t r = pread(fd, s.data() + got, keep - got, static_cast<off_t>(got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<std::uint64_t>(r);
    }
    s.resize(got);
    if (static_cast<std::uint64_t>(size) > cap)
      s += output_cut_marker(stream, static_cast<std::uint64_t>(size) - cap, cap);
  }
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

void output_capture_in_child() noexcept { g_in_child = true; }

void restore_output_for_crash() noexcept {
  if (g_saved.fd[0] >= 0) dup2(g_saved.fd[0], 1);
  if (g_saved.fd[1] >= 0) dup2(g_saved.fd[1], 2);
}

OutputCapture::OutputCapture(std::uint64_t cap) : cap_(cap) {
  if (!g_in_child) lock_ = std::unique_lock(g_capture_mu);
  flush_streams();
  if (!ensure_files(problem_) || !ensure_saved(problem_)) return;
  for (int i = 0; i < 2; ++i) {
    if (dup2(t_files.fd[i], i + 1) < 0) {
      problem_ = fmt::format("[mpiply: the task's output was not captured: dup2: {}]\n",
                             std::strerror(errno));
      restore();
      return;
    }
    redirected_[i] = true;
  }
}

OutputCapture::~OutputCapture() {
  if (redirected_[0] || redirected_[1]) {
    flush_streams();
    restore();
  }
}

void OutputCapture::restore() {
  for (int i = 0; i < 2; ++i) {
    if (!redirected_[i]) continue;
    dup2(g_saved.fd[i], i + 1);
    redirected_[i] = false;
  }
}

void OutputCapture::finish(std::string& out, std::string& err) {
  bool captured = redirected_[0] && redirected_[1];
  flush_streams();
  restore();
  if (!problem_.empty() || !captured) {
    out.clear();
    err = problem_;
  } else {
    out = take(t_files.fd[0], "stdout", cap_);
    err = take(t_files.fd[1], "stderr", cap_);
  }
  if (lock_.owns_lock()) lock_.unlock();
}

}  // namespace mpiply::detail
