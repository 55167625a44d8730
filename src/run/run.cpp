// mpiply::run: set up MPI and the library's communicator, agree at start-up, then rank 0 runs the
// client while the other ranks serve; everyone returns the code client_main produced, or one of
// mpiply's own exit codes (run.hpp).
#include <mpiply/run.hpp>

#include <algorithm>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cxxabi.h>
#include <optional>
#include <string>

#include <mpi.h>

#include <fmt/format.h>

#include <mpiply/detail/type_name.hpp>
#include <mpiply/environment.hpp>

#include "client/client_core.hpp"
#include "client/client_drain.hpp"
#include "run/client_factory.hpp"
#include "executor/crash_report.hpp"
#include "runtime/drain.hpp"
#include "engine/engine_comm.hpp"
#include "engine/engine_loop.hpp"
#include "support/clock.hpp"
#include "support/mpi_check.hpp"
#include "runtime/settings.hpp"
#include "runtime/startup.hpp"
#include "taskdb/resume_index.hpp"
#include "taskdb/task_db.hpp"

namespace mpiply {

namespace {

[[noreturn]] void fatal(int rank, const char* where, const std::exception& e) {
  std::fprintf(stderr, "mpiply: fatal error on rank %d (%s on %s): %s\n", rank, where,
               detail::this_hostname().c_str(), e.what());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, kExitInternalError);
  std::_Exit(kExitInternalError);
}

// client_main has returned after a drain signal: let the tasks on engines finish until the
// drain deadline, print the summary, run the drain actions, then stop the engines with
// kExitInterrupted. Without MPI when it may not answer: after SIGTERM/SIGINT (mpirun is tearing
// the job down), or when a task still runs (its engine cannot read a stop message); mpirun then
// ends the other ranks, whose handlers exit with the same code.
int finish_drain(detail::ClientCore& core) {
  bool all = detail::ClientDrain(core.rank0()).wait(detail::drain_deadline_ns());
  detail::print_drain_summary();
  detail::set_drain_summary(nullptr);
  detail::run_drain_actions();
  if (!all || detail::drain_signal() != SIGUSR1) detail::exit_interrupted();
  int code = kExitInterrupted;
  core.shutdown(code, 0);  // the drain's code stands (a rerun resumes) whatever the database says
  return kExitInterrupted;
}

// Rank 0 opens the task database (MPIPLY_DB / RunOptions::db) after the registry is frozen (the
// program identity hashes it); every rank learns the outcome, so a database refused (corrupt,
// locked, another program's or format's) stops every rank with kExitStartupFailed and one
// message, the file untouched. Collective on comm; only rank 0 gets the database.
std::string open_db(MPI_Comm comm, int rank, int ranks, std::shared_ptr<detail::TaskDb>& db) {
  std::string problem;
  if (rank == 0 && !detail::db_path().empty()) {
    try {
      detail::TaskDbOptions opt;
      opt.ranks = ranks;
      db = detail::TaskDb::open(detail::db_path(), detail::ProgramIdentity::current(), opt);
      if (std::size_t n = db->resume().reusable(); n > 0 && detail::settings().db_resume)
        std::fprintf(stderr, "mpiply: task database '%s': %zu finished tasks from earlier runs "
                     "can be reused\n", detail::db_path().c_str(), n);
      if (detail::ReuseRefusals r = db->resume().refusals(); r.damaged() > 0)
        std::fprintf(stderr, "mpiply: task database '%s': %s\n", detail::db_path().c_str(),
                     r.describe().c_str());
    } catch (const std::exception& e) {
      problem = e.what();
      if (problem.empty()) problem = "mpiply: the task database could not be opened";
    }
  }
  int len = static_cast<int>(problem.size());
  detail::mpi_check(MPI_Bcast(&len, 1, MPI_INT, 0, comm), "MPI_Bcast");
  problem.resize(static_cast<std::size_t>(len));
  if (len > 0) detail::mpi_check(MPI_Bcast(problem.data(), len, MPI_CHAR, 0, comm), "MPI_Bcast");
  return problem;
}

// Closes the task database and prints its summary line (rank 0).
void close_db(detail::ClientCore& core) {
  try {
    std::string line = core.rank0().db.close();
    if (!line.empty()) std::fprintf(stderr, "%s\n", line.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
  }
}

int run_client(MPI_Comm comm, std::vector<detail::EngineInfo> engines,
               std::shared_ptr<detail::TaskDb> db,
               const std::function<int(Client&)>& client_main) {
  const detail::Settings& settings = detail::settings();
  bool inline_mode = engines.empty();
  if (inline_mode)
    std::fprintf(stderr,
                 "mpiply: 1 rank, so no engines: tasks run inline on rank 0 (launch with "
                 "mpirun -n N for N-1 engines)\n");
  // Inline tasks run on this rank, so a crash here is a task's crash too.
  std::optional<detail::CrashReporter> crash;
  bool local_engine = !inline_mode && settings.client_runs_tasks;
  if (inline_mode) crash.emplace(0, 0, detail::this_hostname());
  // So do those of rank 0's own engine slot, the last engine id.
  if (local_engine) crash.emplace(static_cast<int>(engines.size()), 0, detail::this_hostname());
  // An engine with several worker threads must be able to hold a task for each of them.
  int hwm = std::max(settings.hwm, settings.engine_threads);
  auto core = std::make_shared<detail::ClientCore>(comm, std::move(engines), hwm,
                                                      settings.client_runs_tasks);
  if (db) core->rank0().db.attach(std::move(db), settings.db_resume, settings.db_any_build);
  core->start_progress_thread();
  // What the drain watchdog prints if client_main never returns (drain.hpp).
  detail::set_drain_summary([weak = std::weak_ptr<detail::ClientCore>(core)] {
    auto c = weak.lock();
    return c ? detail::ClientDrain(c->rank0()).summary() : std::string();
  });
  int code = 0;
  {
    Client client = detail::ClientFactory::make(core);
    try {
      code = client_main(client);
    } catch (const Interrupted&) {
      // The drain told client_main to unwind; finish_drain below says what happened.
    } catch (const std::exception& e) {
      if (detail::drain_requested())  // e.g. a TaskAborted for a task the drain did not run
        std::fprintf(stderr, "mpiply: client_main stopped by %s during the drain\n",
                     detail::demangle(typeid(e).name()).c_str());
      else
        std::fprintf(stderr, "mpiply: client_main raised %s: %s\nmpiply: stopping the engines\n",
                     detail::demangle(typeid(e).name()).c_str(), e.what());
      code = kExitClientThrew;
    } catch (...) {
      std::type_info* t = abi::__cxa_current_exception_type();
      std::fprintf(stderr, "mpiply: client_main raised %s\nmpiply: stopping the engines\n",
                   t ? detail::demangle(t->name()).c_str() : "an unknown exception");
      code = kExitClientThrew;
    }
  }
  if (detail::drain_requested()) {
    int rc = finish_drain(*core);
    close_db(*core);
    return rc;
  }
  bool drained = false;
  try {
    int given = code;
    drained = core->shutdown(code, settings.shutdown_grace_ms);
    if (code != given)
      std::fprintf(stderr, "mpiply: client_main got every result, but the task database could "
                           "not record them all: every rank exits with code %d\n", code);
  } catch (const std::exception& e) {
    fatal(0, "shutting down", e);
  }
  // Engines stuck in a task never read a stop message: only MPI_Abort ends them (and mpirun
  // then exits with this code).
  close_db(*core);
  if (!drained) {
    MPI_Abort(MPI_COMM_WORLD, kExitShutdownTimeout);
    std::_Exit(kExitShutdownTimeout);
  }
  return code;
}

}  // namespace

int run(int argc, char** argv, std::function<int(Client&)> client_main) {
  return run(argc, argv, RunOptions{}, std::move(client_main));
}

int run(int argc, char** argv, const RunOptions& options,
        std::function<int(Client&)> client_main) {
  std::unique_ptr<Environment> env;
  try {
    env = std::make_unique<Environment>(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitStartupFailed;
  }
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int code = 0;
  try {
    // The library's own communicator: its tags never meet the user's traffic.
    detail::mpi_check(MPI_Comm_dup(MPI_COMM_WORLD, &comm), "MPI_Comm_dup");
    detail::mpi_check(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    // Settings first: a bad value stops every rank the same way, before anything else runs.
    std::string bad_settings = detail::agree_on_settings(comm);
    if (bad_settings.empty()) bad_settings = detail::apply_run_options(options);
    if (!bad_settings.empty()) {
      if (rank == 0) std::fprintf(stderr, "%s\n", bad_settings.c_str());
      detail::mpi_check(MPI_Comm_free(&comm), "MPI_Comm_free");
      return kExitStartupFailed;
    }
    // From here on SIGUSR1, SIGTERM and SIGINT drain the job instead of killing the rank.
    detail::DrainGuard drain(rank, detail::settings().drain_grace_ms);
    detail::StartupResult su = detail::startup(comm);
    if (!su.ok) {
      if (rank == 0) std::fprintf(stderr, "%s\n", su.error.c_str());
      MPI_Comm_free(&comm);
      return kExitStartupFailed;
    }
    detail::freeze_registry(true);
    struct Thaw {
      ~Thaw() { detail::freeze_registry(false); }
    } thaw;
    std::shared_ptr<detail::TaskDb> db;
    int ranks = 1;
    MPI_Comm_size(comm, &ranks);
    if (std::string bad_db = open_db(comm, rank, ranks, db); !bad_db.empty()) {
      if (rank == 0) std::fprintf(stderr, "%s\n", bad_db.c_str());
      MPI_Comm_free(&comm);
      return kExitStartupFailed;
    }
    {
      // The engines' own communicator for collectives in tasks (engine_comm.hpp); made here, on
      // every rank, before any task can run, and freed on every rank once none can.
      std::int64_t t_team = detail::steady_ns();
      detail::EngineTeam team(comm);
      detail::note_engine_comm_seconds(double(detail::steady_ns() - t_team) * 1e-9);
      if (rank == 0) {
        code = run_client(comm, std::move(su.engines), std::move(db), client_main);
      } else {
        Engine eng(rank - 1, rank, detail::this_hostname());
        detail::CrashReporter crash(eng.id(), rank, eng.hostname());
        code = detail::serve(comm, eng, su.clock_offset_ns);
      }
    }
    detail::mpi_check(MPI_Comm_free(&comm), "MPI_Comm_free");
  } catch (const std::exception& e) {
    fatal(rank, rank == 0 ? "client" : "engine", e);
  }
  return code;
}

}  // namespace mpiply
