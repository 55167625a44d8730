// ensemble: a mixed ensemble packed onto engines by resource requests (docs/resources.md).
// Three kinds of task share the engines:
//  - solves: a heat-equation rod stepped with as many threads as the task was given cores
//    ({.cores = 2}; task_resources().cores sizes its thread pool);
//  - wide solves: the same with {.cores = 4} (a whole engine), at a higher priority;
//  - samples: one-core tasks ({.cores = 1}) that backfill what the solves leave free;
//  - team solves: one rod split over a team of 3 engines (map_team), stepped with a halo
//    exchange over mpiply::task_comm(); each team holds its engines whole while it runs.
// Every result is checked against the same work done serially on rank 0 (bit for bit: each
// point sees the same operands in the same order), and the job prints the engines' utilization
// (core-seconds busy / core-seconds available over the run) and the makespan against the ideal
// (all the work's core-seconds spread evenly over every core).
//
//   mpirun -n 5 ./build/jobs/ensemble [--solves 24] [--wide 4] [--samples 200] [--points 20000]
//                                     [--teams 8] [--team-size 3]
//   ./build/jobs/ensemble                    (one rank: tasks run inline on rank 0)
//
// Each engine advertises 4 cores (RunOptions::engine_threads, unless MPIPLY_ENGINE_THREADS or
// SLURM_CPUS_PER_TASK says otherwise) and runs up to that many tasks at once.
#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include <mpiply/engine_comm.hpp>
#include <mpiply/mpiply.hpp>

namespace {

constexpr double kR = 0.25;  // diffusion number: stable up to 1/2

std::vector<double> rod_of(int c, long n) {
  std::vector<double> u(static_cast<std::size_t>(n) + 2);
  for (long i = 0; i < n; ++i) {
    double x = (double(i) + 0.5) / double(n);
    u[static_cast<std::size_t>(i) + 1] = 20.0 + 5.0 * std::sin((3 + c % 7) * x) + (x > 0.5 ? c : 0);
  }
  return u;
}

// Points [lo, hi) of one step; u has a ghost cell at each end (insulated: copies of the ends).
void step_range(const std::vector<double>& u, std::vector<double>& next, std::size_t lo,
                std::size_t hi) {
  for (std::size_t i = lo; i < hi; ++i)
    next[i] = u[i] + kR * ((u[i + 1] - u[i]) - (u[i] - u[i - 1]));
}

// Case c's rod after `steps` steps, stepped by `threads` threads (blocks of the rod, a barrier
// between steps); returns the temperature at the rod's middle and its total heat.
std::vector<double> heat(int c, long n, int steps, unsigned threads) {
  std::vector<double> u = rod_of(c, n), next(u.size());
  const std::size_t len = static_cast<std::size_t>(n);
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(len)));
  auto swap_and_ghost = [&]() noexcept {
    std::swap(u, next);
    u[0] = u[1];
    u[len + 1] = u[len];
  };
  u[0] = u[1];
  u[len + 1] = u[len];
  std::barrier sync(static_cast<std::ptrdiff_t>(threads), swap_and_ghost);
  auto work = [&](unsigned t) {
    std::size_t lo = 1 + len * t / threads, hi = 1 + len * (t + 1) / threads;
    for (int s = 0; s < steps; ++s) {
      step_range(u, next, lo, hi);
      sync.arrive_and_wait();
    }
  };
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  pool.clear();
  double total = 0;
  for (std::size_t i = 1; i <= len; ++i) total += u[i];
  return {u[len / 2], total};
}

std::vector<double> solve(int c, long n, int steps) {
  return heat(c, n, steps, mpiply::task_resources().cores);
}

// Case c's whole rod after `steps` steps, serially: the team solves' reference.
std::vector<double> serial_rod(int c, long n, int steps) {
  std::vector<double> u = rod_of(c, n), next(u.size());
  const std::size_t len = static_cast<std::size_t>(n);
  for (int s = 0; s < steps; ++s) {
    u[0] = u[1];
    u[len + 1] = u[len];
    step_range(u, next, 1, len + 1);
    std::swap(u, next);
  }
  return {u.begin() + 1, u.end() - 1};
}

// One member of a team solve: its block of case c's rod (team rank r of k holds points
// [n*r/k, n*(r+1)/k)), stepped with one ghost value swapped with each neighbour per step over
// task_comm(). Returns the block; the blocks in team-rank order are the rod.
std::vector<double> team_solve(int c, long n, int steps) {
  MPI_Comm team = mpiply::task_comm();
  int r = 0, k = 1;
  MPI_Comm_rank(team, &r);
  MPI_Comm_size(team, &k);
  const std::vector<double> rod = rod_of(c, n);
  const auto lo = static_cast<std::size_t>(n * r / k), hi = static_cast<std::size_t>(n * (r + 1) / k);
  const std::size_t len = hi - lo;
  std::vector<double> u(len + 2), next(len + 2);
  std::copy(rod.begin() + 1 + static_cast<std::ptrdiff_t>(lo),
            rod.begin() + 1 + static_cast<std::ptrdiff_t>(hi), u.begin() + 1);
  const int left = r > 0 ? r - 1 : MPI_PROC_NULL, right = r + 1 < k ? r + 1 : MPI_PROC_NULL;
  for (int s = 0; s < steps; ++s) {
    MPI_Sendrecv(&u[1], 1, MPI_DOUBLE, left, 0, &u[len + 1], 1, MPI_DOUBLE, right, 0, team,
                 MPI_STATUS_IGNORE);
    MPI_Sendrecv(&u[len], 1, MPI_DOUBLE, right, 1, &u[0], 1, MPI_DOUBLE, left, 1, team,
                 MPI_STATUS_IGNORE);
    if (left == MPI_PROC_NULL) u[0] = u[1];  // insulated ends
    if (right == MPI_PROC_NULL) u[len + 1] = u[len];
    step_range(u, next, 1, len + 1);
    std::swap(u, next);
  }
  return {u.begin() + 1, u.end() - 1};
}

// A one-core sample: a partial sum whose terms depend on i.
double sample(int i) {
  double s = 0;
  for (int k = 1; k <= 200000; ++k) s += std::sin(double(i) + 1.0 / k) / k;
  return s;
}

double seconds_between(const std::optional<mpiply::TimePoint>& a,
                       const std::optional<mpiply::TimePoint>& b) {
  if (!a || !b) return 0;
  return std::chrono::duration<double>(*b - *a).count();
}

}  // namespace

MPIPLY_REGISTER(solve);
MPIPLY_REGISTER(sample);
MPIPLY_REGISTER(team_solve);

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  int solves = 24, wide = 4, samples = 200, steps = 200, teams = 8, team_size = 3;
  long points = 20000;
  po::options_description opts("ensemble options");
  opts.add_options()("help", "this text")(
      "solves", po::value(&solves)->default_value(24), "2-core heat solves")(
      "wide", po::value(&wide)->default_value(4), "4-core heat solves (priority 1)")(
      "samples", po::value(&samples)->default_value(200), "1-core samples")(
      "points", po::value(&points)->default_value(20000), "points per rod")(
      "steps", po::value(&steps)->default_value(200), "steps per solve")(
      "teams", po::value(&teams)->default_value(8), "team solves (one rod over a team)")(
      "team-size", po::value(&team_size)->default_value(3),
      "engines per team solve (at most the engines)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    fmt::print(stderr, "ensemble: {}\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    fmt::print("usage: mpirun -n N ensemble [options]\n\nPacks 2-core and 4-core solves and "
               "1-core samples onto engines of 4 cores by resource requests, checks every\n"
               "result against a serial run, and prints utilization and makespan.\n\n");
    std::cout << opts;
    return 0;
  }
  if (solves < 0 || wide < 0 || samples < 0 || teams < 0 || team_size < 1 || points < 8 ||
      steps < 1) {
    fmt::print(stderr, "ensemble: counts must be 0 or more, --team-size 1 or more, --points at "
                       "least 8, --steps 1\n");
    return 2;
  }

  mpiply::RunOptions options;
  options.engine_threads = 4;  // each engine: 4 cores, 4 tasks at once
  return mpiply::run(argc, argv, options, [&](mpiply::Client& rc) {
    auto lv = rc.load_balanced_view();
    auto t0 = std::chrono::steady_clock::now();
    std::vector<int> cases(static_cast<std::size_t>(solves)), wides(static_cast<std::size_t>(wide));
    for (int c = 0; c < solves; ++c) cases[static_cast<std::size_t>(c)] = c;
    for (int c = 0; c < wide; ++c) wides[static_cast<std::size_t>(c)] = solves + c;
    std::vector<long> ns_s(cases.size(), points), ns_w(wides.size(), points);
    std::vector<int> st_s(cases.size(), steps), st_w(wides.size(), steps);
    auto wide_r = lv.map_async(solve, wides, ns_w, st_w, {.flags = {.cores = 4, .priority = 1}});
    auto solve_r = lv.map_async(solve, cases, ns_s, st_s, {.flags = {.cores = 2}});
    std::vector<int> items(static_cast<std::size_t>(samples));
    for (int i = 0; i < samples; ++i) items[static_cast<std::size_t>(i)] = i;
    auto sample_r = lv.map_async(sample, items, {.flags = {.cores = 1}});
    // Team solves: as many engines as asked, or all there are (one rank: a team of one).
    const auto k = static_cast<unsigned>(std::min<std::size_t>(static_cast<std::size_t>(team_size),
                                                               rc.ids().size()));
    // One team task per rod (map_team): teams of different rods run side by side.
    std::vector<int> rods(static_cast<std::size_t>(teams));
    for (int t = 0; t < teams; ++t) rods[static_cast<std::size_t>(t)] = 1000 + t;
    auto team_r = lv.map_team_async(k, team_solve, rods,
                                    std::vector<long>(rods.size(), points),
                                    std::vector<int>(rods.size(), steps));
    auto wide_v = wide_r.get();
    auto solve_v = solve_r.get();
    auto sample_v = sample_r.get();
    std::vector<std::vector<std::vector<double>>> team_v = team_r.get();  // per rod, per member
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    // The serial answer, on rank 0 with one thread.
    bool pass = true;
    for (int c = 0; c < solves; ++c)
      pass = pass && solve_v[static_cast<std::size_t>(c)] == heat(c, points, steps, 1);
    for (int c = 0; c < wide; ++c)
      pass = pass && wide_v[static_cast<std::size_t>(c)] == heat(solves + c, points, steps, 1);
    for (int i = 0; i < samples; ++i)
      pass = pass && sample_v[static_cast<std::size_t>(i)] == sample(i);
    for (int t = 0; t < teams; ++t) {
      std::vector<double> rod;  // the members' blocks in team-rank order
      for (const auto& block : team_v[static_cast<std::size_t>(t)])
        rod.insert(rod.end(), block.begin(), block.end());
      pass = pass && rod == serial_rod(1000 + t, points, steps);
    }

    // Core-seconds each task held (run time x cores asked), and the cores there were.
    double work = 0;
    auto add = [&](const mpiply::AsyncResultBase& ar, unsigned cores) {
      for (const auto& m : ar.metadata()) work += cores * seconds_between(m.started, m.completed);
    };
    add(wide_r, 4);
    add(solve_r, 2);
    add(sample_r, 1);
    double cores = 0;
    for (int e : rc.ids()) cores += rc.engine_resources(e).cores;
    // A team member holds its whole engine: every core of it is busy for the member's time.
    for (const auto& m : team_r.metadata())  // one entry per member of every team
      work += rc.engine_resources(m.engine_id).cores * seconds_between(m.started, m.completed);
    double ideal = work / cores;
    fmt::print("ensemble: {} engines, {} cores; {} 4-core solves, {} 2-core solves, {} samples, "
               "{} team solves on {} engines each\n",
               rc.ids().size(), cores, wide, solves, samples, teams, k);
    fmt::print("ensemble: utilization {:.1f}% (core-seconds busy / available), makespan {:.3f} s "
               "against the ideal {:.3f} s (x{:.2f})\n",
               100 * work / (cores * wall), wall, ideal, wall / std::max(ideal, 1e-9));
    fmt::print("ensemble: results against a serial run: {}\n", pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
  });
}
