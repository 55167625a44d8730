// Start-up handshake: registry agreement (names and signatures), engine host/pid, clock alignment
// (clock_alignment.hpp).
#include "runtime/startup.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <utility>
#include <unistd.h>

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>
#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>

#include "runtime/build_id.hpp"
#include "runtime/clock_alignment.hpp"
#include "runtime/inventory.hpp"
#include "support/clock.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

// Under Slurm the node name it gave this rank wins: it is what squeue, sacct and the user's
// job script name, and on clusters (or test set-ups) whose nodes share a kernel host name it is
// the only name that tells them apart.
std::string this_hostname() {
  if (const char* node = std::getenv("SLURMD_NODENAME"); node && *node) return node;
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
  return buf;
}

namespace {

// What one rank's registry lacks or has in excess of rank 0's, the functions it registers with
// another signature (same name, other parameter or result types: calls would decode as the wrong
// type), plus its own registration problems.
std::string registry_report(const std::vector<std::string>& root,
                            const std::vector<std::string>& root_sigs, int rank) {
  std::vector<NamedSignature> mine_sigs = registered_signatures();
  std::vector<std::string> mine;
  for (const auto& e : mine_sigs) mine.push_back(e.name);
  std::vector<std::string> missing, extra;
  std::set_difference(root.begin(), root.end(), mine.begin(), mine.end(),
                      std::back_inserter(missing));
  std::set_difference(mine.begin(), mine.end(), root.begin(), root.end(),
                      std::back_inserter(extra));
  std::string out;
  for (const auto& p : registration_problems()) out += fmt::format("  rank {}: {}\n", rank, p);
  if (!missing.empty())
    out += fmt::format("  rank {} lacks functions rank 0 registered: {}\n", rank,
                       fmt::join(missing, ", "));
  if (!extra.empty())
    out += fmt::format("  rank {} registered functions rank 0 lacks: {}\n", rank,
                       fmt::join(extra, ", "));
  // Both lists are sorted by name: walk them together.
  for (std::size_t i = 0, j = 0; i < root.size() && j < mine_sigs.size();) {
    if (root[i] < mine_sigs[j].name) {
      ++i;
    } else if (mine_sigs[j].name < root[i]) {
      ++j;
    } else {
      if (root_sigs[i] != mine_sigs[j].signature)
        out += fmt::format("  rank {} registers '{}' as {}, rank 0 as {}\n", rank, root[i],
                           mine_sigs[j].signature, root_sigs[i]);
      ++i;
      ++j;
    }
  }
  return out;
}

// Ranks running different builds would pass the registry check whenever the names and
// signatures agree, and then run different code under one name (and store its results under the
// same resume key). Refused unless the job says it is MPMD on purpose.
std::string build_report(const std::vector<std::string>& builds) {
  std::string lines;
  for (std::size_t r = 1; r < builds.size(); ++r)
    if (builds[r] != builds[0])
      lines += fmt::format("  rank {} runs build {}, rank 0 build {}\n", r, builds[r], builds[0]);
  if (lines.empty()) return {};
  return fmt::format(
      "mpiply: the ranks run different builds of the program:\n{}"
      "Every rank must run the same binary (rebuilt binaries copied to every node, one path). If "
      "the job runs different programs on purpose (MPMD: mpirun -n 1 a : -n 3 b), set "
      "MPIPLY_MPMD=1 or RunOptions::mpmd; then only the registered names and signatures are "
      "compared",
      lines);
}

// Written by the thread that runs mpiply::run, read by it (in client_main) afterwards.
StartupPhases phases;

double seconds_between(std::int64_t t0_ns, std::int64_t t1_ns) {
  return double(t1_ns - t0_ns) * 1e-9;
}

}  // namespace

StartupResult startup(MPI_Comm comm) {
  boost::mpi::communicator world(comm, boost::mpi::comm_attach);
  int rank = world.rank(), size = world.size();
  StartupResult res;
  phases = StartupPhases{};
  std::int64_t t_registry = steady_ns();

  std::vector<std::string> root_names, root_sigs;
  if (rank == 0)
    for (auto& e : registered_signatures()) {
      root_names.push_back(std::move(e.name));
      root_sigs.push_back(std::move(e.signature));
    }
  boost::mpi::broadcast(world, root_names, 0);
  boost::mpi::broadcast(world, root_sigs, 0);
  std::string report = registry_report(root_names, root_sigs, rank);
  std::string host = this_hostname();
  long pid = static_cast<long>(getpid());
  std::string boot_id = kernel_boot_id();

  std::vector<std::string> reports, hosts, builds, boot_ids;
  std::vector<long> pids;
  boost::mpi::gather(world, report, reports, 0);
  boost::mpi::gather(world, build_id().hex, builds, 0);
  boost::mpi::gather(world, host, hosts, 0);
  boost::mpi::gather(world, boot_id, boot_ids, 0);
  boost::mpi::gather(world, pid, pids, 0);
  // Every rank's inventory (its variables were checked with the settings, so problems is empty).
  std::vector<std::string> ignored;
  // Cores: the variables, else RunOptions::engine_threads, else the CPU binding (0).
  const Settings& set = settings();
  EngineResources inv = read_inventory(
      ignored, set.engine_threads_named ? static_cast<unsigned>(set.engine_threads) : 0u);
  set_local_inventory(inv);
  std::vector<unsigned> cores;
  std::vector<std::vector<std::string>> gpus, names;
  std::vector<std::uint64_t> memory;
  std::vector<std::vector<std::uint64_t>> amounts;
  std::vector<std::string> my_names;
  std::vector<std::uint64_t> my_amounts;
  for (const auto& [k, v] : inv.named) {
    my_names.push_back(k);
    my_amounts.push_back(v);
  }
  boost::mpi::gather(world, inv.cores, cores, 0);
  boost::mpi::gather(world, inv.gpus, gpus, 0);
  boost::mpi::gather(world, inv.memory, memory, 0);
  boost::mpi::gather(world, my_names, names, 0);
  boost::mpi::gather(world, my_amounts, amounts, 0);

  std::string verdict;
  if (rank == 0) {
    for (const auto& r : reports) verdict += r;
    if (!verdict.empty())
      verdict = fmt::format(
          "mpiply: the ranks do not agree on the registered functions:\n{}"
          "Every rank must run the same binary with the same MPIPLY_REGISTER and "
          "MPIPLY_REGISTER_COLLECTIVE lines (and the same register_function calls, with the "
          "same signatures, before mpiply::run). Registered on rank 0: {}",
          verdict, fmt::join(root_names, ", "));
    if (verdict.empty() && !settings().mpmd) verdict = build_report(builds);
    for (int r = 1; r < size; ++r) {
      EngineResources er{cores[r], gpus[r], memory[r], {}};
      for (std::size_t i = 0; i < names[r].size() && i < amounts[r].size(); ++i)
        er.named.emplace(names[r][i], amounts[r][i]);
      res.engines.push_back({r, hosts[r], pids[r], std::move(er)});
    }
  }
  // With the verdict goes whether every rank runs under rank 0's kernel (one host): then every
  // clock offset is 0 and the clock alignment's own collectives are skipped on every rank.
  bool one_kernel = rank == 0 && all_under_rank0_kernel(boot_ids);
  std::pair<std::string, bool> word{std::move(verdict), one_kernel};
  boost::mpi::broadcast(world, word, 0);
  verdict = std::move(word.first);
  one_kernel = word.second;
  std::int64_t t_clock = steady_ns();
  phases.registry_s = seconds_between(t_registry, t_clock);
  if (!verdict.empty()) {
    res.ok = false;
    res.error = verdict;
    return res;
  }
  if (!one_kernel) {
    ClockAlignment clocks = align_clocks(comm, boot_ids);
    res.clock_offset_ns = clocks.offset_ns;
    phases.clock_offset_ns = clocks.offset_ns;
    phases.clock_engines_measured = clocks.engines_measured;
  }
  phases.clock_align_s = seconds_between(t_clock, steady_ns());
  return res;
}

StartupPhases last_startup_phases() { return phases; }

void note_engine_comm_seconds(double s) { phases.engine_comm_s = s; }

}  // namespace mpiply::detail
