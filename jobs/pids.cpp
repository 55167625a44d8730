// pids: ipyparallel's get_dict example. Every engine reports its pid; the client gathers them as
// a map engine id -> pid, pushes that map to every engine, and each engine checks that the map
// holds its own pid under its own id.
//
//   mpirun -n 4 ./build/jobs/pids          (one client, three engines)
//   ./build/jobs/pids                      (one rank: tasks run inline on rank 0)
#include <unistd.h>

#include <iostream>
#include <map>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include <mpiply/mpiply.hpp>

long getpid_task() { return static_cast<long>(::getpid()); }
MPIPLY_REGISTER(getpid_task);

// Runs on an engine: is my pid in the pushed map, under my engine id?
bool check_pid_map() {
  auto& eng = mpiply::this_engine();
  const auto& pid_map = eng.get<std::map<int, long>>("pid_map");
  auto it = pid_map.find(eng.id());
  return it != pid_map.end() && it->second == static_cast<long>(::getpid());
}
MPIPLY_REGISTER(check_pid_map);

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  po::options_description opts("options");
  opts.add_options()("help,h", "print this text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "pids: {}; try --help\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    fmt::print(
        "usage: mpirun -n N pids\n\n"
        "Gathers the pid of every engine with get_dict(), pushes the map to every engine as\n"
        "'pid_map', and has each engine check its own entry. Exits 0 when all agree.\n\n");
    std::cout << opts;
    return 0;
  }
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    auto dv = rc[mpiply::all];
    auto ar = dv.apply_async(getpid_task);
    std::map<int, long> pids = ar.get_dict();
    dv["pid_map"] = pids;
    std::vector<bool> ok = dv.apply_sync(check_pid_map);

    fmt::print("{:>6} {:>5} {:>16} {:>8} {:>10}\n", "engine", "rank", "host", "pid", "agrees");
    auto meta = ar.metadata();
    bool all_ok = true;
    for (std::size_t i = 0; i < meta.size(); ++i) {
      fmt::print("{:>6} {:>5} {:>16} {:>8} {:>10}\n", meta[i].engine_id, meta[i].rank,
                 meta[i].hostname, pids.at(meta[i].engine_id), ok[i] ? "yes" : "NO");
      all_ok = all_ok && ok[i];
    }
    fmt::print("{} engines; getpid round trip: wall {:.1f} us, serial {:.1f} us\n", pids.size(),
               ar.wall_time() * 1e6, ar.serial_time() * 1e6);
    fmt::print("{}\n", all_ok ? "every engine found its own pid in the pushed map"
                              : "MISMATCH: some engine did not find its pid");
    return all_ok ? 0 : 1;
  });
}
