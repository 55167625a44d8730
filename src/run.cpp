// mpiply::run: set up MPI and the library's communicator, agree at start-up, then rank 0 runs the
// client while the other ranks serve; everyone returns the code client_main produced.
#include <mpiply/run.hpp>

#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <string>

#include <mpi.h>

#include <fmt/format.h>

#include <mpiply/detail/type_name.hpp>
#include <mpiply/environment.hpp>

#include "client_core.hpp"
#include "engine_loop.hpp"
#include "mpi_check.hpp"
#include "startup.hpp"

namespace mpiply {

namespace {

constexpr int kDefaultHwm = 4;

int hwm_from_env() {
  const char* s = std::getenv("MPIPLY_HWM");
  if (!s || !*s) return kDefaultHwm;
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (*end != '\0' || v < 1 || v > 1024)
    throw UsageError(fmt::format("MPIPLY_HWM='{}' is not a whole number from 1 to 1024 (tasks "
                                 "one engine may hold); unset it for the default {}",
                                 s, kDefaultHwm));
  return static_cast<int>(v);
}

[[noreturn]] void fatal(int rank, const char* where, const std::exception& e) {
  std::fprintf(stderr, "mpiply: fatal error on rank %d (%s on %s): %s\n", rank, where,
               detail::this_hostname().c_str(), e.what());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 3);
  std::_Exit(3);
}

int run_client(MPI_Comm comm, std::vector<detail::EngineInfo> engines,
               const std::function<int(Client&)>& client_main) {
  int hwm = hwm_from_env();
  if (engines.empty())
    std::fprintf(stderr,
                 "mpiply: 1 rank, so no engines: tasks run inline on rank 0 (launch with "
                 "mpirun -n N for N-1 engines)\n");
  auto core = std::make_shared<detail::ClientCore>(comm, std::move(engines), hwm);
  core->start_progress_thread();
  int code = 0;
  {
    Client client(core);
    try {
      code = client_main(client);
    } catch (const std::exception& e) {
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
  try {
    core->shutdown(code);
  } catch (const std::exception& e) {
    fatal(0, "shutting down", e);
  }
  return code;
}

}  // namespace

int run(int argc, char** argv, std::function<int(Client&)> client_main) {
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
    if (rank == 0) {
      code = run_client(comm, std::move(su.engines), client_main);
    } else {
      Engine eng(rank - 1, rank, detail::this_hostname());
      code = detail::serve(comm, eng, su.clock_offset_ns);
    }
    detail::mpi_check(MPI_Comm_free(&comm), "MPI_Comm_free");
  } catch (const std::exception& e) {
    fatal(rank, rank == 0 ? "client" : "engine", e);
  }
  return code;
}

}  // namespace mpiply
