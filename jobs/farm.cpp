// farm: a command farm with GNU parallel's interface, on MPI ranks. Rank 0 makes the command
// lines (input sources, template, replacement strings: jobs/farm/inputs.hpp) and hands them to
// the engines through a load-balanced view; each engine runs -j of them at once with /bin/sh -c
// and sends back exit status and captured output. Rank 0 prints each command's output in one
// piece, keeps a GNU-parallel joblog, retries, halts and resumes.
//
//   mpirun -n 5 ./build/jobs/farm commands.txt                  (four engines run the commands)
//   mpirun -n 5 ./build/jobs/farm -j 4 gzip {} ::: *.txt        (16 at once)
//   mpirun -n 5 ./build/jobs/farm --joblog log --resume-failed commands.txt
//   ./build/jobs/farm --timeout 60 --results out/ < commands.txt        (one rank: runs inline)
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <mpi.h>

#include <mpiply/mpiply.hpp>

#include "farm/command.hpp"
#include "farm/inputs.hpp"
#include "farm/joblog.hpp"
#include "farm/options.hpp"
#include "farm/printer.hpp"
#include "farm/results.hpp"

// The one task the engines run.
farm::Outcome run_command(std::string cmd, double timeout_s, double grace_s, bool stop_on_usr2) {
  return farm::run_shell(cmd, timeout_s, grace_s, stop_on_usr2);
}
MPIPLY_REGISTER(run_command);

namespace {

using farm::Job;
using farm::Outcome;

double epoch_seconds(mpiply::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

struct Running {
  const Job* job;
  std::size_t pos;  // position among the jobs this run runs (the -k order)
  int slot;         // {%}: 1..jobs*engines, the lowest free one, as GNU parallel's job slots
  int attempt;      // 1 for the first try
  std::string cmd;
  mpiply::AsyncResult<Outcome> ar;
};

class Farm {
 public:
  Farm(mpiply::Client& rc, farm::Options& o) : rc_(rc), o_(o), lv_(rc.load_balanced_view()) {
    // --halt now kills running commands with a signal to their engine's worker process: only
    // isolated tasks can be signalled (docs/isolation.md).
    if (o_.halt.when == farm::Halt::When::now) lv_ = lv_.with_flags({.isolate = true});
  }

  int run() {
    std::vector<Job> jobs;
    try {
      jobs = farm::make_jobs(o_);
    } catch (const std::exception& e) {
      return usage_error(e.what());
    }
    std::deque<std::pair<const Job*, std::size_t>> pending;
    std::set<long> skip;
    bool resuming = o_.resume || o_.resume_failed;
    if (resuming) skip = farm::seqs_in_joblog(o_.joblog, o_.resume_failed);
    for (const auto& j : jobs)
      if (!skip.count(j.seq)) pending.emplace_back(&j, pending.size());
    if (resuming)
      fmt::print(stderr, "{}: --{}: {} of {} jobs are in the joblog{}, {} to run\n", jobs::tool_name(),
                 o_.resume ? "resume" : "resume-failed", jobs.size() - pending.size(),
                 jobs.size(), o_.resume ? "" : " as succeeded", pending.size());
    const int slots = o_.jobs * static_cast<int>(rc_.ids().size());
    int ranks = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    if (ranks == 1 && o_.jobs > 1)
      fmt::print(stderr, "{}: -j {}: with one rank the commands run on rank 0 one at a time; "
                         "start more ranks (mpirun -n N) to run them at once\n", jobs::tool_name(), o_.jobs);
    if (o_.dry_run) {
      for (auto& [job, pos] : pending)
        fmt::print("{}\n", farm::command_line(o_.command, *job, static_cast<int>(pos % slots) + 1));
      return 0;
    }
    if (!open_joblog()) return farm::kExitUsage;

    total_ = pending.size();
    farm::Printer printer(pending.size(), o_.keep_order, o_.bar);
    std::set<int> free_slots;
    for (int s = 1; s <= slots; ++s) free_slots.insert(s);
    std::vector<Running> running;
    auto pause = std::chrono::microseconds(100);
    auto signalled = std::chrono::steady_clock::time_point{};
    while ((!pending.empty() && !halted_) || !running.empty()) {
      // One command per free slot: an engine holds -j commands, all running (MPIPLY_HWM = -j).
      while (!halted_ && !free_slots.empty() && !pending.empty()) {
        int slot = *free_slots.begin();
        free_slots.erase(free_slots.begin());
        auto [job, pos] = pending.front();
        pending.pop_front();
        running.push_back(submit(job, pos, slot, 1));
      }
      if (halted_ && o_.halt.when == farm::Halt::When::now &&
          std::chrono::steady_clock::now() - signalled > std::chrono::milliseconds(200)) {
        // Again while any run: a command that started after the last signal gets one too.
        rc_.send_signal(SIGUSR2);
        signalled = std::chrono::steady_clock::now();
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
      if (!ok && !halted_ && r.attempt < o_.retries) {
        running.push_back(submit(r.job, r.pos, r.slot, r.attempt + 1));
        continue;
      }
      free_slots.insert(r.slot);
      report(r, std::move(out), error, printer);
    }
    printer.close();
    if (halted_) return halt_status_;
    return static_cast<int>(std::min<std::size_t>(printer.failed(), 101));
  }

 private:
  static int usage_error(const std::string& what) {
    fmt::print(stderr, "{}: {}\n", jobs::tool_name(), what);
    return farm::kExitUsage;
  }

  bool open_joblog() {
    if (o_.joblog.empty()) return true;
    bool resuming = o_.resume || o_.resume_failed;
    joblog_ = farm::open_joblog(o_.joblog, resuming);
    if (joblog_) return true;
    usage_error(fmt::format("cannot write the joblog '{}'", o_.joblog));
    return false;
  }

  Running submit(const Job* job, std::size_t pos, int slot, int attempt) {
    std::string cmd = farm::command_line(o_.command, *job, slot);
    bool stop_on_usr2 = o_.halt.when == farm::Halt::When::now;
    auto ar = lv_.apply_async(run_command, cmd, o_.timeout, o_.grace, stop_on_usr2);
    return {job, pos, slot, attempt, std::move(cmd), std::move(ar)};
  }

  // The try that is not retried: its joblog line, its output, the progress, --halt.
  void report(const Running& r, Outcome out, const std::string& error, farm::Printer& printer) {
    auto meta = r.ar.metadata().at(0);
    double start = meta.started ? epoch_seconds(*meta.started) : 0.0;
    if (joblog_) {
      farm::JoblogRow row{r.job->seq, meta.hostname, start, out.runtime, r.cmd.size(),
                          out.out.size() + out.err.size(), out.exitval, out.signal, r.cmd};
      std::fputs(farm::joblog_row(row).c_str(), joblog_.get());
      std::fflush(joblog_.get());  // a killed job keeps every line written so far
    }
    if (out.timed_out)
      out.err += fmt::format(
          "{}: command {} timed out after {} s on engine {} ({}) and was killed (signal {})\n",
          jobs::tool_name(),
          r.job->seq, o_.timeout, meta.engine_id, meta.hostname, out.signal);
    if (!error.empty())
      out.err += fmt::format("{}: command {} did not run on engine {} ({}): {}\n", jobs::tool_name(),
                             r.job->seq,
                             meta.engine_id, meta.hostname, error);
    bool ok = error.empty() && out.ok();
    if (!o_.results.empty()) {
      try {
        farm::save_results(o_.results, *r.job, r.slot, out.out, out.err);
      } catch (const std::exception& e) {
        fmt::print(stderr, "{}: {}\n", jobs::tool_name(), e.what());
        ok = false;
      }
      out.out.clear();
      out.err.clear();
    }
    printer.output(r.pos, std::move(out.out), std::move(out.err));
    printer.finished(ok);
    if (!ok && !halted_ && !out.halted && o_.halt.triggered(printer.failed(), total_)) {
      halted_ = true;
      halt_status_ = o_.halt.exit_status(printer.failed(), total_, out.exitval, out.signal);
      fmt::print(stderr, "{}: --halt: command {} failed ({} failed in all); {}\n", jobs::tool_name(),
                 r.job->seq,
                 printer.failed(),
                 o_.halt.when == farm::Halt::When::now ? "killing the running commands"
                                                      : "starting no more commands");
    }
  }

  mpiply::Client& rc_;
  farm::Options& o_;
  mpiply::LoadBalancedView lv_;
  std::unique_ptr<std::FILE, farm::FileCloser> joblog_;
  std::size_t total_ = 0;
  bool halted_ = false;
  int halt_status_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  jobs::set_tool_name(argv[0], "farm");
  farm::Options opts;
  if (auto code = farm::parse_options(argc, argv, opts)) return *code;
  // Commands may run for hours: an engine holds only the -j commands it runs, or commands queued
  // behind a long one would wait while other engines idle. -j sets both; MPIPLY_* the user set
  // win when -j is not given.
  std::string j = std::to_string(opts.jobs);
  bool given = opts.jobs != 1;
  ::setenv("MPIPLY_HWM", j.c_str(), given);
  ::setenv("MPIPLY_ENGINE_THREADS", j.c_str(), given);
  return mpiply::run(argc, argv, [&](mpiply::Client& rc) { return Farm(rc, opts).run(); });
}
