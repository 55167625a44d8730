// dag: a small pipeline of dependent tasks on a LoadBalancedView. Each block of data goes
// through three stages; a stage `follow`s the one before, so it runs on the engine that holds
// its input in the engine's namespace (no data goes back through rank 0). The first stage
// fails on one engine (a bad node: the last engine, when there are two or more) and is retried,
// which never goes back to an engine that failed it, so it lands on a good one. A last task waits (`after`) for every block. The job checks the result
// against a serial run, prints PASS or FAIL, and reports every task from its metadata.
//
//   mpirun -n 4 ./build/jobs/dag                 (one client, three engines)
//   ./build/jobs/dag --blocks 16 --size 100000   (one rank: tasks run inline on rank 0)
#include <cmath>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <mpiply/mpiply.hpp>

namespace {

// Block i's raw data: deterministic, so the serial check can recompute it.
std::vector<double> raw_block(int i, long n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (long k = 0; k < n; ++k) v[static_cast<std::size_t>(k)] = std::sin(0.001 * double(k + i * n));
  return v;
}

// Three-point moving average (ends kept).
std::vector<double> smoothed(const std::vector<double>& v) {
  std::vector<double> out(v);
  for (std::size_t k = 1; k + 1 < v.size(); ++k) out[k] = (v[k - 1] + v[k] + v[k + 1]) / 3.0;
  return out;
}

double sum_sq(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0, [](double a, double x) { return a + x * x; });
}

std::string name(const char* stage, int i) { return fmt::format("{}_{}", stage, i); }

// Stage 1: loads block i into this engine's namespace. Fails on engine `bad` (a bad node), so
// the scheduler's retries carry it to another engine.
long load(int i, long n, int bad) {
  auto& eng = mpiply::this_engine();
  if (eng.id() == bad)
    throw std::runtime_error(fmt::format("engine {}: bad node, cannot read the input", eng.id()));
  eng.set(name("raw", i), raw_block(i, n));
  return eng.id();
}
MPIPLY_REGISTER(load);

// Stage 2: smooths block i where stage 1 left it.
long smooth(int i) {
  auto& eng = mpiply::this_engine();
  eng.set(name("smooth", i), smoothed(eng.get<std::vector<double>>(name("raw", i))));
  eng.erase(name("raw", i));
  return eng.id();
}
MPIPLY_REGISTER(smooth);

// Stage 3: the block's sum of squares.
double energy(int i) {
  auto& eng = mpiply::this_engine();
  double e = sum_sq(eng.get<std::vector<double>>(name("smooth", i)));
  eng.erase(name("smooth", i));
  return e;
}
MPIPLY_REGISTER(energy);

// Runs once every block is done: a marker that the pipeline drained.
int drained() { return mpiply::this_engine().id(); }
MPIPLY_REGISTER(drained);

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  int blocks = 8;
  long size = 20000;
  po::options_description opts("options");
  opts.add_options()
    ("blocks", po::value(&blocks)->default_value(blocks), "blocks of data in the pipeline")
    ("size", po::value(&size)->default_value(size), "values per block")
    ("help,h", "print this text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "dag: {}; try --help\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    fmt::print("usage: mpirun -n N dag [--blocks B] [--size S]\n\n"
               "Runs B blocks through load -> smooth -> energy, each stage following the one\n"
               "before onto its engine, retries the load stage off a bad engine, and prints PASS\n"
               "when the total matches a serial run, then a report of every task.\n\n");
    std::cout << opts;
    return 0;
  }
  if (blocks < 1 || size < 3) {
    fmt::print(stderr, "dag: --blocks must be at least 1 and --size at least 3\n");
    return 2;
  }

  return mpiply::run(argc, argv, [&](mpiply::Client& rc) {
    auto lv = rc.load_balanced_view();
    // One retry moves a load off the bad node; with one engine there is no bad node.
    const int bad = rc.ids().size() > 1 ? rc.ids().back() : -1;
    const int retries = 1;
    std::vector<mpiply::AsyncResult<long>> loads, smooths;
    std::vector<mpiply::AsyncResult<double>> energies;
    for (int i = 0; i < blocks; ++i) {
      loads.push_back(lv.with_flags({.retries = retries}).apply_async(load, i, size, bad));
      smooths.push_back(lv.with_flags({.follow = loads.back()}).apply_async(smooth, i));
      energies.push_back(lv.with_flags({.follow = smooths.back()}).apply_async(energy, i));
    }
    auto done = lv.with_flags({.after = mpiply::Dependency(energies)}).apply_async(drained);

    double total = 0;
    for (auto& e : energies) total += e.get();
    done.get();
    double serial = 0;
    for (int i = 0; i < blocks; ++i) serial += sum_sq(smoothed(raw_block(i, size)));
    bool pass = std::abs(total - serial) <= 1e-9 * std::max(1.0, std::abs(serial));
    fmt::print("dag: {} blocks x {} values, total energy {:.12g} (serial {:.12g}): {}\n", blocks,
               size, total, serial, pass ? "PASS" : "FAIL");

    // The report, from each task's metadata.
    fmt::print("{:>6} {:<8} {:>6} {:<7} {:>8} {:<14} {}\n", "msg_id", "function", "engine",
               "status", "attempts", "engines_tried", "depends on");
    int retried = 0;
    auto row = [&](const mpiply::AsyncResultBase& ar) {
      for (const auto& m : ar.metadata()) {
        std::vector<mpiply::MsgId> deps = m.after;
        deps.insert(deps.end(), m.follow.begin(), m.follow.end());
        std::string on = deps.empty() ? "-"
                                      : fmt::format("{} {}", m.follow.empty() ? "after" : "follow",
                                                    fmt::join(deps, ","));
        fmt::print("{:>6} {:<8} {:>6} {:<7} {:>8} {:<14} {}\n", m.msg_id, m.function, m.engine_id,
                   mpiply::to_string(m.status), m.attempts, fmt::format("{}", fmt::join(m.engines_tried, ",")),
                   on);
        retried += m.attempts > 1 ? 1 : 0;
      }
    };
    for (int i = 0; i < blocks; ++i) {
      row(loads[i]);
      row(smooths[i]);
      row(energies[i]);
    }
    row(done);
    // The first loads go one to each engine, so with a bad node and as many blocks as engines
    // at least one load was retried there.
    const bool bad_used = bad >= 0 && blocks >= static_cast<int>(rc.ids().size());
    fmt::print("dag: {} task(s) needed a retry\n", retried);
    // The same question asked of the hub's task table, as ipyparallel's db_query.
    auto again = rc.db_query(mpiply::field("attempts") > 1 && mpiply::field("status") == "ok",
                             {"function", "engine_id", "attempts"});
    // The records hold the fields asked for (std::optional; the others are absent).
    for (const auto& m : again)
      fmt::print("db_query: msg {} ({}) ran on engines {} and succeeded on engine {}\n",
                 m.msg_id, *m.function, fmt::join(*m.engines_tried, ","), *m.engine_id);
    bool agree = static_cast<int>(again.size()) == retried;
    fmt::print("dag: db_query found {} retried task(s): {}\n", again.size(),
               agree ? "agrees" : "DISAGREES");
    return pass && (retried > 0 || !bad_used) && agree ? 0 : 1;
  });
}
