// Parsing and agreeing on the MPIPLY_* environment variables. Parsing is strict (digits only, no
// sign, no spaces, no trailing text) so that a typo is an error rather than a silently different
// value, and every rank reports the same problem in the same words.
#include "runtime/settings.hpp"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <fmt/format.h>

#include "runtime/inventory.hpp"
#include "support/mpi_check.hpp"

namespace mpiply::detail {

namespace {

Settings g_active;  // written by run() before any thread of the job starts
std::string g_db_path;  // rank 0's MPIPLY_DB or RunOptions::db

// A whole number without sign or spaces; nullopt if it is not one (or overflows 18 digits).
std::optional<std::uint64_t> parse_whole(const char* s) {
  std::size_t n = std::strlen(s);
  if (n == 0 || n > 18) return std::nullopt;
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
  return std::strtoull(s, nullptr, 10);
}

// A plain decimal such as 30, 0.5 or 2.25 (no exponent, inf or nan), in thousandths.
std::optional<std::uint64_t> parse_milli(const char* s) {
  const char* dot = std::strchr(s, '.');
  std::string whole = dot ? std::string(s, dot) : std::string(s);
  std::string frac = dot ? std::string(dot + 1) : std::string();
  if (whole.empty() && frac.empty()) return std::nullopt;
  // Zeros past the third decimal change nothing (0.5000 is 0.5); a finer value is refused, since
  // mpiply counts milliseconds and would otherwise round a short limit to none.
  while (frac.size() > 3 && frac.back() == '0') frac.pop_back();
  if (frac.size() > 3) return std::nullopt;
  auto w = whole.empty() ? std::optional<std::uint64_t>(0) : parse_whole(whole.c_str());
  auto f = frac.empty() ? std::optional<std::uint64_t>(0) : parse_whole(frac.c_str());
  if (!w || !f || *w > 1'000'000'000) return std::nullopt;
  while (frac.size() < 3) {
    frac += '0';
    *f *= 10;
  }
  return *w * 1000 + *f;
}

struct Spec {
  const char* name;
  const char* what;    // what the variable sets, for the message
  const char* kind;    // "a whole number", ...
  const char* range;   // the valid range, in words
};

std::string bad_value(const Spec& s, const char* value, bool parsed, const std::string& deflt) {
  return fmt::format("{}='{}' {}; it sets {}. Use {}, or unset it for the default {}",
                     s.name, value, parsed ? "is out of range" : fmt::format("is not {}", s.kind),
                     s.what, s.range, deflt);
}

const char* env_value(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

constexpr Spec kHwm{"MPIPLY_HWM", "how many tasks one engine may hold at once", "a whole number",
                    "1 to 1024"};
constexpr Spec kMaxBytes{"MPIPLY_MAX_MESSAGE_BYTES",
                         "the largest task or result message in bytes", "a whole number",
                         "1024 to 2147483647"};
constexpr Spec kGrace{"MPIPLY_SHUTDOWN_GRACE",
                      "how many seconds tasks still running after client_main may take before "
                      "the job is ended",
                      "a number of seconds with at most three decimals (such as 30 or 0.5)", "0 to 604800 (a week)"};

constexpr Spec kDrainGrace{"MPIPLY_DRAIN_GRACE",
                           "how many seconds tasks running when a SIGUSR1, SIGTERM or SIGINT "
                           "arrives may take before the job ends",
                           "a number of seconds with at most three decimals (such as 30 or 0.5)", "0 to 604800 (a week)"};

constexpr Spec kThreads{"MPIPLY_ENGINE_THREADS", "how many tasks one engine runs at once, each in "
                        "its own thread", "a whole number", "1 to 1024"};

constexpr Spec kClientRuns{"MPIPLY_CLIENT_RUNS_TASKS",
                           "whether rank 0 also runs tasks, as the last engine", "0 or 1",
                           "0 or 1"};

constexpr Spec kIsolate{"MPIPLY_ISOLATE",
                        "whether tasks run in a worker process each engine forks, so that a crash "
                        "or a hang fails the task instead of the job",
                        "0 or 1", "0 or 1"};

constexpr Spec kTaskTimeout{"MPIPLY_TASK_TIMEOUT",
                            "how many seconds a task may run before its worker process is killed "
                            "(TaskTimeout; implies isolation)",
                            "a number of seconds with at most three decimals (such as 60 or 0.5)",
                            "0 (no limit) to 4000000"};

constexpr Spec kScheme{"MPIPLY_SCHEME", "how load-balanced tasks are placed on engines",
                       "a scheme name", "leastload, lru, twobin, weighted or plainrandom"};

constexpr Spec kProgress{"MPIPLY_PROGRESS", "how wait_interactive draws progress",
                         "a progress mode", "lines, redraw or auto"};

constexpr Spec kCapture{"MPIPLY_CAPTURE",
                        "whether each task's stdout and stderr are captured on its engine and "
                        "sent to rank 0 (ar.stdout(), ar.display_outputs())",
                        "0 or 1", "0 or 1"};

constexpr Spec kOutputCap{"MPIPLY_OUTPUT_CAP",
                          "how many bytes of stdout (and as many of stderr) one task keeps when "
                          "captured; the rest is cut with a marker",
                          "a whole number", "0 to 1073741824"};

constexpr Spec kStream{"MPIPLY_STREAM",
                       "whether running tasks' output and published data reach rank 0 while "
                       "they run (implies MPIPLY_CAPTURE=1)",
                       "0 or 1", "0 or 1"};

constexpr Spec kStreamInterval{"MPIPLY_STREAM_INTERVAL",
                               "how often, in seconds, engines send running tasks' new output",
                               "a number of seconds with at most three decimals (such as 0.1)", "0.001 to 60"};

constexpr Spec kDbResume{"MPIPLY_DB_RESUME",
                         "whether the task database (MPIPLY_DB) reuses results of earlier runs",
                         "0 or 1", "0 or 1"};
constexpr Spec kDbReuse{"MPIPLY_DB_REUSE",
                        "which stored results the task database (MPIPLY_DB) may reuse: those of "
                        "this build of each function, or of any build",
                        "same-build or any-build", "same-build or any-build"};
constexpr Spec kMpmd{"MPIPLY_MPMD",
                     "whether the ranks may run different binaries on purpose (MPMD); without "
                     "it ranks whose build ids differ are refused at start-up",
                     "0 or 1", "0 or 1"};
constexpr Spec kHubKeep{"MPIPLY_HUB_KEEP",
                        "how many finished tasks' records rank 0's hub keeps before it culls the "
                        "oldest ones whose AsyncResult was dropped",
                        "a whole number of records", "0 to 1000000000000"};
constexpr Scheme kSchemes[] = {Scheme::leastload, Scheme::lru, Scheme::twobin, Scheme::weighted,
                               Scheme::plainrandom};

}  // namespace

Settings read_settings(std::vector<std::string>& problems) {
  Settings s;
  if (const char* v = env_value(kHwm.name)) {
    auto n = parse_whole(v);
    if (n && *n >= 1 && *n <= 1024) {
      s.hwm = static_cast<int>(*n);
      s.hwm_set = true;
    } else {
      problems.push_back(bad_value(kHwm, v, n.has_value(), std::to_string(s.hwm)));
    }
  }
  if (const char* v = env_value(kMaxBytes.name)) {
    auto n = parse_whole(v);
    if (n && *n >= 1024 && *n <= 2147483647)
      s.max_message_bytes = *n;
    else
      problems.push_back(
          bad_value(kMaxBytes, v, n.has_value(), std::to_string(s.max_message_bytes)));
  }
  if (const char* v = env_value(kGrace.name)) {
    auto ms = parse_milli(v);
    if (ms && *ms <= 604'800'000)
      s.shutdown_grace_ms = static_cast<std::int64_t>(*ms);
    else
      problems.push_back(
          bad_value(kGrace, v, ms.has_value(), fmt::format("{:g}", s.shutdown_grace_ms / 1e3)));
  }
  if (const char* v = env_value(kDrainGrace.name)) {
    auto ms = parse_milli(v);
    if (ms && *ms <= 604'800'000)
      s.drain_grace_ms = static_cast<std::int64_t>(*ms);
    else
      problems.push_back(
          bad_value(kDrainGrace, v, ms.has_value(), fmt::format("{:g}", s.drain_grace_ms / 1e3)));
  }
  // One rank per node with --cpus-per-task=N should keep N cores busy without a second setting.
  // Slurm's own variable is not ours to judge: a value we cannot use leaves the default.
  if (const char* v = env_value("SLURM_CPUS_PER_TASK")) {
    auto n = parse_whole(v);
    if (n && *n >= 1 && *n <= 1024) {
      s.engine_threads = static_cast<int>(*n);
      s.engine_threads_named = true;
    }
  }
  if (const char* v = env_value(kThreads.name)) {
    auto n = parse_whole(v);
    if (n && *n >= 1 && *n <= 1024) {
      s.engine_threads = static_cast<int>(*n);
      s.engine_threads_named = true;
    } else
      problems.push_back(bad_value(kThreads, v, n.has_value(), "1 (or SLURM_CPUS_PER_TASK)"));
  }
  if (const char* v = env_value(kClientRuns.name)) {
    if (std::strcmp(v, "0") == 0 || std::strcmp(v, "1") == 0)
      s.client_runs_tasks = v[0] == '1';
    else
      problems.push_back(bad_value(kClientRuns, v, false, "0"));
  }
  if (const char* v = env_value(kIsolate.name)) {
    if (std::strcmp(v, "0") == 0 || std::strcmp(v, "1") == 0)
      s.isolate = v[0] == '1';
    else
      problems.push_back(bad_value(kIsolate, v, false, "0"));
  }
  if (const char* v = env_value(kTaskTimeout.name)) {
    auto ms = parse_milli(v);
    if (ms && *ms <= kMaxTimeLimitMs)
      s.time_limit_ms = static_cast<std::int64_t>(*ms);
    else
      problems.push_back(bad_value(kTaskTimeout, v, ms.has_value(), "0 (no limit)"));
  }
  if (const char* v = env_value(kCapture.name)) {
    if (std::strcmp(v, "0") == 0 || std::strcmp(v, "1") == 0)
      s.capture_output = v[0] == '1';
    else
      problems.push_back(bad_value(kCapture, v, false, "0"));
  }
  if (const char* v = env_value(kOutputCap.name)) {
    auto n = parse_whole(v);
    if (n && *n <= kMaxOutputCap)
      s.output_cap = *n;
    else
      problems.push_back(bad_value(kOutputCap, v, n.has_value(), std::to_string(s.output_cap)));
  }
  if (const char* v = env_value(kStream.name)) {
    if (std::strcmp(v, "0") == 0 || std::strcmp(v, "1") == 0)
      s.stream_output = v[0] == '1';
    else
      problems.push_back(bad_value(kStream, v, false, "0"));
  }
  if (const char* v = env_value(kStreamInterval.name)) {
    auto ms = parse_milli(v);
    if (ms && *ms >= 1 && *ms <= 60'000)
      s.stream_interval_ms = static_cast<std::int64_t>(*ms);
    else
      problems.push_back(bad_value(kStreamInterval, v, ms.has_value(), "0.1"));
  }
  if (s.stream_output) s.capture_output = true;  // streaming is of captured output
  if (const char* v = env_value(kScheme.name)) {
    bool known = false;
    for (Scheme k : kSchemes)
      if (std::strcmp(v, to_string(k)) == 0) {
        s.scheme = k;
        known = true;
      }
    if (!known) problems.push_back(bad_value(kScheme, v, false, "leastload"));
  }
  // Read again where progress is drawn (terminal.cpp); checked here so that a typo stops the job
  // before client_main, like every other setting.
  if (const char* v = env_value(kProgress.name)) {
    if (std::strcmp(v, "lines") != 0 && std::strcmp(v, "redraw") != 0 &&
        std::strcmp(v, "auto") != 0)
      problems.push_back(bad_value(kProgress, v, false, "auto"));
  }
  if (const char* v = env_value(kDbResume.name)) {
    if (std::strcmp(v, "0") == 0 || std::strcmp(v, "1") == 0)
      s.db_resume = v[0] == '1';
    else
      problems.push_back(bad_value(kDbResume, v, false, "1"));
  }
  if (const char* v = env_value(kDbReuse.name)) {
    if (std::strcmp(v, "same-build") == 0 || std::strcmp(v, "any-build") == 0)
      s.db_any_build = v[0] == 'a';
    else
      problems.push_back(bad_value(kDbReuse, v, false, "same-build"));
  }
  if (const char* v = env_value(kMpmd.name)) {
    if (std::strcmp(v, "0") == 0 || std::strcmp(v, "1") == 0)
      s.mpmd = v[0] == '1';
    else
      problems.push_back(bad_value(kMpmd, v, false, "0"));
  }
  if (const char* v = env_value(kHubKeep.name)) {
    auto n = parse_whole(v);
    if (n && *n <= kMaxHubKeep)
      s.hub_keep = *n;
    else
      problems.push_back(bad_value(kHubKeep, v, n.has_value(), "of keeping every record"));
  }
  // The engine's inventory is its own (startup.cpp gathers it); its variables are checked here
  // so that a bad one stops the job like any other setting.
  (void)read_inventory(problems, 1);
  return s;
}

std::string agree_on_settings(MPI_Comm comm) {
  boost::mpi::communicator world(comm, boost::mpi::comm_attach);
  std::vector<std::string> problems;
  Settings mine = read_settings(problems);
  std::string report;
  for (const auto& p : problems) report += p + "\n";

  std::vector<std::string> reports;
  boost::mpi::gather(world, report, reports, 0);
  std::string verdict;
  if (world.rank() == 0) {
    bool any = false, same = true;
    for (const auto& r : reports) {
      any = any || !r.empty();
      same = same && r == reports[0];
    }
    // The usual case is one environment for the whole job: say it once, not once per rank.
    auto add_lines = [&verdict](const std::string& report, const std::string& prefix) {
      for (std::size_t at = 0, nl; (nl = report.find('\n', at)) != std::string::npos; at = nl + 1)
        verdict += prefix + report.substr(at, nl + 1 - at);
    };
    if (any && same) {
      add_lines(reports[0], "mpiply: ");
    } else if (any) {
      for (std::size_t r = 0; r < reports.size(); ++r)
        add_lines(reports[r], fmt::format("mpiply: rank {}: ", r));
    }
    if (!verdict.empty()) verdict.pop_back();  // the caller ends the line
  }
  boost::mpi::broadcast(world, verdict, 0);
  if (!verdict.empty()) return verdict;
  mpi_check(MPI_Bcast(&mine, sizeof mine, MPI_BYTE, 0, comm), "MPI_Bcast");
  g_active = mine;
  const char* db = env_value("MPIPLY_DB");  // any path; only rank 0 opens it
  g_db_path = world.rank() == 0 && db ? db : "";
  return {};
}

std::string apply_run_options(const RunOptions& o) {
  Settings s = g_active;
  std::string problems = overlay_run_options(o, s);
  if (!problems.empty()) return problems;
  if (o.db) g_db_path = *o.db;
  g_active = s;
  return "";
}

const Settings& settings() noexcept { return g_active; }
const std::string& db_path() noexcept { return g_db_path; }

}  // namespace mpiply::detail

namespace mpiply {

const char* to_string(Scheme s) noexcept {
  switch (s) {
    case Scheme::leastload: return "leastload";
    case Scheme::lru: return "lru";
    case Scheme::twobin: return "twobin";
    case Scheme::weighted: return "weighted";
    case Scheme::plainrandom: return "plainrandom";
  }
  return "unknown";
}

}  // namespace mpiply
