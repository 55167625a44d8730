// farm: a command farm in the manner of GNU parallel and disBatch. Rank 0 reads shell commands,
// one per line, and hands them to the engines through a load-balanced view; each engine runs its
// command with /bin/sh -c and sends back exit status and captured output. Rank 0 prints each
// command's output in one piece, keeps a GNU-parallel joblog, retries and resumes.
//
//   mpirun -n 5 ./build/jobs/farm commands.txt                  (four engines run the commands)
//   mpirun -n 5 ./build/jobs/farm --joblog log --resume commands.txt   (rerun what did not succeed)
//   ./build/jobs/farm --timeout 60 --results out/ < commands.txt        (one rank: runs inline)
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include <mpiply/mpiply.hpp>

#include "farm/command.hpp"
#include "farm/joblog.hpp"
#include "farm/options.hpp"

// The one task the engines run.
farm::Outcome run_command(std::string cmd, double timeout_s, double grace_s) {
  return farm::run_shell(cmd, timeout_s, grace_s);
}
MPIPLY_REGISTER(run_command);

namespace {

using farm::Command;
using farm::Outcome;

double epoch_seconds(mpiply::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// done/total and failures on stderr: rewritten in place on a terminal; in a log file (batch
// jobs) a line at most every 10 s, and always the last one.
class Progress {
 public:
  explicit Progress(std::size_t total) : total_(total), tty_(::isatty(2) != 0) {}
  void finished(bool ok) {
    ++done_;
    failed_ += ok ? 0 : 1;
    auto now = std::chrono::steady_clock::now();
    if (tty_ || done_ == total_ || now - last_ > std::chrono::seconds(10)) {
      last_ = now;
      fmt::print(stderr, "{}farm: {}/{} done, {} failed{}", tty_ ? "\r" : "", done_, total_,
                 failed_, tty_ && done_ < total_ ? "" : "\n");
      std::fflush(stderr);
    }
  }
  // Before a command's stderr is printed: clear a half-written progress line.
  void clear_line() const {
    if (tty_) fmt::print(stderr, "\r\033[K");
  }
  std::size_t failed() const { return failed_; }

 private:
  std::size_t total_, done_ = 0, failed_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point last_{};
};

struct Running {
  const Command* cmd;
  int attempt;  // 1 for the first run
  mpiply::AsyncResult<Outcome> ar;
};

class Farm {
 public:
  Farm(mpiply::Client& rc, const farm::Options& o) : rc_(rc), o_(o), lv_(rc.load_balanced_view()) {}

  int run() {
    std::vector<Command> cmds;
    if (o_.input == "-") {
      cmds = farm::read_commands(std::cin);
    } else {
      std::ifstream in(o_.input);
      if (!in) return usage_error(fmt::format("cannot read the command file '{}'", o_.input));
      cmds = farm::read_commands(in);
    }
    std::deque<const Command*> pending;
    std::set<std::pair<long, std::string>> skip;
    if (o_.resume) skip = farm::succeeded_in_joblog(o_.joblog);
    for (const auto& c : cmds)
      if (!skip.count({c.seq, c.text})) pending.push_back(&c);
    if (o_.resume)
      fmt::print(stderr, "farm: --resume: {} of {} commands already succeeded, {} to run\n",
                 cmds.size() - pending.size(), cmds.size(), pending.size());
    if (!open_outputs()) return farm::kExitUsage;

    Progress progress(pending.size());
    // Enough handles in flight to keep every engine's queue full; the rest wait here, so
    // finding a finished one stays cheap however many commands there are.
    const std::size_t window = std::max<std::size_t>(8, 2 * rc_.ids().size() * rc_.hwm());
    std::vector<Running> running;
    auto pause = std::chrono::microseconds(100);
    while (!pending.empty() || !running.empty()) {
      while (running.size() < window && !pending.empty()) {
        running.push_back(submit(pending.front(), 1));
        pending.pop_front();
      }
      auto it = std::find_if(running.begin(), running.end(), [](const Running& r) {
        return r.ar.ready();
      });
      if (it == running.end()) {
        // No wait-for-any in the API: wait briefly on the oldest, then look at all again.
        running.front().ar.wait(pause);
        pause = std::min(pause * 2, decltype(pause)(std::chrono::milliseconds(10)));
        continue;
      }
      pause = std::chrono::microseconds(100);
      Running r = std::move(*it);
      running.erase(it);
      Outcome out;
      std::string error;
      try {
        out = r.ar.get();
      } catch (const mpiply::Error& e) {  // the engine could not run it at all (fork failed...)
        out.exitval = -1;
        error = e.what();
      }
      bool ok = error.empty() && out.ok();
      if (!ok && r.attempt <= o_.retries) {
        running.push_back(submit(r.cmd, r.attempt + 1));
        continue;
      }
      report(r, std::move(out), error, progress);
    }
    return static_cast<int>(std::min<std::size_t>(progress.failed(), 101));
  }

 private:
  static int usage_error(const std::string& what) {
    fmt::print(stderr, "farm: {}\n", what);
    return farm::kExitUsage;
  }

  static bool ends_with_newline(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    f.seekg(-1, std::ios::end);
    char c = '\n';
    f.get(c);
    return c == '\n';
  }

  bool open_outputs() {
    if (!o_.joblog.empty()) {
      bool fresh = !o_.resume || !std::filesystem::exists(o_.joblog) ||
                   std::filesystem::file_size(o_.joblog) == 0;
      joblog_.reset(std::fopen(o_.joblog.c_str(), o_.resume ? "a" : "w"));
      if (!joblog_) {
        usage_error(fmt::format("cannot write the joblog '{}'", o_.joblog));
        return false;
      }
      if (fresh) std::fputs(farm::kJoblogHeader, joblog_.get());
      else if (!ends_with_newline(o_.joblog)) std::fputc('\n', joblog_.get());  // a cut-off row
      std::fflush(joblog_.get());
    }
    if (!o_.results.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(o_.results, ec);
      if (ec) {
        usage_error(fmt::format("cannot create --results '{}': {}", o_.results, ec.message()));
        return false;
      }
    }
    return true;
  }

  Running submit(const Command* c, int attempt) {
    return {c, attempt, lv_.apply_async(run_command, c->text, o_.timeout, o_.grace)};
  }

  // The attempt that is not retried: its joblog line, its output, the progress line.
  void report(const Running& r, Outcome out, const std::string& error, Progress& progress) {
    auto meta = r.ar.metadata().at(0);
    double start = meta.started ? epoch_seconds(*meta.started) : 0.0;
    if (joblog_) {
      auto row = farm::joblog_row(r.cmd->seq, meta.hostname, start, out.runtime, out.exitval,
                                  out.signal, r.cmd->text);
      std::fputs(row.c_str(), joblog_.get());
      std::fflush(joblog_.get());  // a killed job keeps every line written so far
    }
    if (out.timed_out)
      out.err += fmt::format(
          "farm: command {} timed out after {} s on engine {} ({}) and was killed (signal {})\n",
          r.cmd->seq, o_.timeout, meta.engine_id, meta.hostname, out.signal);
    if (!error.empty())
      out.err += fmt::format("farm: command {} did not run on engine {} ({}): {}\n", r.cmd->seq,
                             meta.engine_id, meta.hostname, error);
    if (!o_.results.empty()) {
      std::ofstream(fmt::format("{}/{}.out", o_.results, r.cmd->seq), std::ios::binary) << out.out;
      std::ofstream(fmt::format("{}/{}.err", o_.results, r.cmd->seq), std::ios::binary) << out.err;
    } else {
      // Each stream in one write, flushed: outputs of different commands never interleave.
      std::fwrite(out.out.data(), 1, out.out.size(), stdout);
      std::fflush(stdout);
      if (!out.err.empty()) {
        progress.clear_line();
        std::fwrite(out.err.data(), 1, out.err.size(), stderr);
        std::fflush(stderr);
      }
    }
    progress.finished(error.empty() && out.ok());
  }

  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  mpiply::Client& rc_;
  const farm::Options& o_;
  mpiply::LoadBalancedView lv_;
  std::unique_ptr<std::FILE, Closer> joblog_;
};

}  // namespace

int main(int argc, char** argv) {
  farm::Options opts;
  if (auto code = farm::parse_options(argc, argv, opts)) return *code;
  // Commands may run for hours: an engine should hold only the command it runs, or commands
  // queued behind a long one wait while other engines idle. A MPIPLY_HWM the user set wins.
  ::setenv("MPIPLY_HWM", "1", 0);
  return mpiply::run(argc, argv, [&](mpiply::Client& rc) { return Farm(rc, opts).run(); });
}
