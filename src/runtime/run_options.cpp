// RunOptions over the settings the MPIPLY_* variables gave: each field a program sets replaces
// its variable's value, within the same range; a value out of range is a problem named in the
// field's own words (the caller, apply_run_options in settings.cpp, installs nothing then).
#include "runtime/settings.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mpiply::detail {

std::string overlay_run_options(const RunOptions& o, Settings& s) {
  std::vector<std::string> problems;
  if (o.hwm) {
    if (*o.hwm >= 1 && *o.hwm <= 1024) {
      s.hwm = *o.hwm;
      s.hwm_set = true;
    } else {
      problems.push_back(fmt::format("mpiply: RunOptions::hwm is {}; it must be from 1 to 1024 "
                                     "(tasks one engine may hold)",
                                     *o.hwm));
    }
  }
  if (o.shutdown_grace) {
    double sec = o.shutdown_grace->count();
    if (sec >= 0 && sec <= 604'800)
      s.shutdown_grace_ms = static_cast<std::int64_t>(sec * 1000);
    else
      problems.push_back(fmt::format("mpiply: RunOptions::shutdown_grace is {:g} s; it must be "
                                     "from 0 to 604800 (7 days)",
                                     sec));
  }
  if (o.drain_grace) {
    double sec = o.drain_grace->count();
    if (sec >= 0 && sec <= 604'800)
      s.drain_grace_ms = static_cast<std::int64_t>(sec * 1000);
    else
      problems.push_back(fmt::format("mpiply: RunOptions::drain_grace is {:g} s; it must be "
                                     "from 0 to 604800 (7 days)",
                                     sec));
  }
  if (o.engine_threads) {
    if (*o.engine_threads >= 1 && *o.engine_threads <= 1024) {
      s.engine_threads = *o.engine_threads;
      s.engine_threads_named = true;
    } else
      problems.push_back(fmt::format("mpiply: RunOptions::engine_threads is {}; it must be from "
                                     "1 to 1024 (tasks one engine runs at once)",
                                     *o.engine_threads));
  }
  if (o.client_runs_tasks) s.client_runs_tasks = *o.client_runs_tasks;
  if (o.isolate) s.isolate = *o.isolate;
  if (o.time_limit) {
    double sec = o.time_limit->count();
    if (sec >= 0 && sec * 1000 <= double(kMaxTimeLimitMs))
      s.time_limit_ms = static_cast<std::int64_t>(sec * 1000 + 0.5);
    else
      problems.push_back(fmt::format("mpiply: RunOptions::time_limit is {:g} s; it must be from "
                                     "0 (no limit) to 4000000 seconds",
                                     sec));
  }
  if (o.scheme) {
    if (static_cast<unsigned>(*o.scheme) <= static_cast<unsigned>(Scheme::plainrandom))
      s.scheme = *o.scheme;
    else
      problems.push_back(fmt::format("mpiply: RunOptions::scheme is {}; it must be one of "
                                     "Scheme::leastload, lru, twobin, weighted, plainrandom",
                                     static_cast<unsigned>(*o.scheme)));
  }
  if (o.capture_output) s.capture_output = *o.capture_output;
  if (o.output_cap) {
    if (*o.output_cap <= kMaxOutputCap)
      s.output_cap = *o.output_cap;
    else
      problems.push_back(fmt::format("mpiply: RunOptions::output_cap is {}; it must be from 0 to "
                                     "{} bytes",
                                     *o.output_cap, kMaxOutputCap));
  }
  if (o.db_resume) s.db_resume = *o.db_resume;
  if (o.db_reuse) {
    if (*o.db_reuse == DbReuse::same_build || *o.db_reuse == DbReuse::any_build)
      s.db_any_build = *o.db_reuse == DbReuse::any_build;
    else
      problems.push_back(fmt::format("mpiply: RunOptions::db_reuse is {}; it must be "
                                     "DbReuse::same_build or DbReuse::any_build",
                                     static_cast<unsigned>(*o.db_reuse)));
  }
  if (o.mpmd) s.mpmd = *o.mpmd;
  if (o.hub_keep) {
    if (*o.hub_keep <= kMaxHubKeep)
      s.hub_keep = *o.hub_keep;
    else
      problems.push_back(fmt::format("mpiply: RunOptions::hub_keep is {}; it must be from 0 to "
                                     "{} records (finished tasks the hub keeps)",
                                     *o.hub_keep, kMaxHubKeep));
  }
  if (o.stream_output) s.stream_output = *o.stream_output;
  if (o.stream_print) s.stream_print = *o.stream_print;
  if (o.stream_interval) {
    double sec = o.stream_interval->count();
    if (sec >= 0.001 && sec <= 60)
      s.stream_interval_ms = static_cast<std::int64_t>(sec * 1000 + 0.5);
    else
      problems.push_back(fmt::format("mpiply: RunOptions::stream_interval is {:g} s; it must be "
                                     "from 0.001 to 60 seconds",
                                     sec));
  }
  if (s.stream_output) s.capture_output = true;  // streaming is of captured output
  return fmt::format("{}", fmt::join(problems, "\n"));
}

}  // namespace mpiply::detail
