// heat: the 1-D heat equation u_t = u_xx on an insulated rod, solved by the engines as one MPI
// team. Rank 0 scatters the rod, one contiguous block per engine; a collective task steps every
// block, swapping one boundary value with each neighbour per step over mpiply::engine_comm();
// the blocks are gathered back and compared with the same steps computed serially on rank 0.
//
//   mpirun -n 4 ./build/jobs/heat [--points 1000000] [--steps 300]
//   ./build/jobs/heat                    (one rank: the inline engine 0 is a team of one)
//
// The scheme is explicit: u_i += r * ((u_{i+1} - u_i) - (u_i - u_{i-1})) with r = 1/4 (stable
// up to 1/2). Insulated ends mean no flux through them (a ghost cell equal to the end value), so
// the total heat is conserved; an MPI_Allreduce checks it. Every point sees the same operands in
// the same order as in the serial run, so the two agree to the last bit; the job prints the
// largest difference and exits 1 if it is beyond rounding or heat was lost.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <iostream>
#include <numeric>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include <mpiply/engine_comm.hpp>
#include <mpiply/mpiply.hpp>

namespace {

constexpr double kR = 0.25;  // diffusion number dt / dx^2

// One step of a block held with a ghost cell at each end: u[0] and u[n+1] are the neighbours'
// values (or copies of the end values at an insulated end). Writes next[1..n].
void step(const std::vector<double>& u, std::vector<double>& next) {
  const std::size_t n = u.size() - 2;
  for (std::size_t i = 1; i <= n; ++i)
    next[i] = u[i] + kR * ((u[i + 1] - u[i]) - (u[i] - u[i - 1]));
}

// The starting temperatures: a warm background, a wave, and a hot middle fifth.
std::vector<double> initial_rod(std::size_t n) {
  std::vector<double> rod(n);
  const double pi = std::acos(-1.0);
  for (std::size_t i = 0; i < n; ++i) {
    double x = (double(i) + 0.5) / double(n);
    rod[i] = 20.0 + 5.0 * std::sin(6 * pi * x) + (x >= 0.4 && x < 0.6 ? 80.0 : 0.0);
  }
  return rod;
}

// The reference: every step on the whole rod, on rank 0.
std::vector<double> serial_heat(const std::vector<double>& rod, int steps) {
  const std::size_t n = rod.size();
  std::vector<double> u(n + 2), next(n + 2);
  std::copy(rod.begin(), rod.end(), u.begin() + 1);
  for (int s = 0; s < steps; ++s) {
    u[0] = u[1];  // insulated ends
    u[n + 1] = u[n];
    step(u, next);
    std::swap(u, next);
  }
  return {u.begin() + 1, u.end() - 1};
}

}  // namespace

// Runs on every engine at once (hence collective): steps this engine's block of "rod" in place
// and returns the rod's total heat before and after, summed over the engines.
std::array<double, 2> heat_steps(int steps) {
  auto& eng = mpiply::this_engine();
  MPI_Comm team = mpiply::engine_comm();
  int me = 0, engines = 0;
  MPI_Comm_rank(team, &me);
  MPI_Comm_size(team, &engines);
  // Neighbours in the team; MPI_PROC_NULL past the rod's ends makes those exchanges no-ops.
  const int left = me > 0 ? me - 1 : MPI_PROC_NULL;
  const int right = me + 1 < engines ? me + 1 : MPI_PROC_NULL;

  const auto& block = eng.get<std::vector<double>>("rod");
  const std::size_t n = block.size();
  std::vector<double> u(n + 2), next(n + 2);
  std::copy(block.begin(), block.end(), u.begin() + 1);

  auto total = [&] {
    double mine = std::accumulate(u.begin() + 1, u.end() - 1, 0.0), all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_DOUBLE, MPI_SUM, team);
    return all;
  };
  const double before = total();
  for (int s = 0; s < steps; ++s) {
    // Halo exchange: my first value goes left while my right ghost arrives from the right, then
    // the other way round.
    MPI_Sendrecv(&u[1], 1, MPI_DOUBLE, left, 0, &u[n + 1], 1, MPI_DOUBLE, right, 0, team,
                 MPI_STATUS_IGNORE);
    MPI_Sendrecv(&u[n], 1, MPI_DOUBLE, right, 1, &u[0], 1, MPI_DOUBLE, left, 1, team,
                 MPI_STATUS_IGNORE);
    if (left == MPI_PROC_NULL) u[0] = u[1];
    if (right == MPI_PROC_NULL) u[n + 1] = u[n];
    step(u, next);
    std::swap(u, next);
  }
  const double after = total();
  eng.set("rod", std::vector<double>(u.begin() + 1, u.end() - 1));
  return {before, after};
}
MPIPLY_REGISTER_COLLECTIVE(heat_steps);

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  long points = 1'000'000;
  int steps = 300;
  po::options_description opts("options");
  opts.add_options()("help,h", "print this text")(
      "points", po::value(&points)->value_name("N")->default_value(points),
      "points on the rod (at least one per engine)")(
      "steps", po::value(&steps)->value_name("S")->default_value(steps), "time steps");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "heat: {}; try --help\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    fmt::print(
        "usage: mpirun -n N heat [options]\n\n"
        "Solves the 1-D heat equation on an insulated rod with N-1 engines working as one MPI\n"
        "team (halo exchange over mpiply::engine_comm()), checks that the total heat is\n"
        "conserved, compares the result with a serial run of the same steps on rank 0, and\n"
        "prints PASS, or exits 1.\n\n");
    std::cout << opts << "\n";
    return 0;
  }
  if (points < 1 || steps < 0) {
    fmt::print(stderr, "heat: --points must be at least 1 and --steps at least 0\n");
    return 2;
  }
  return mpiply::run(argc, argv, [&](mpiply::Client& rc) {
    if (std::size_t(points) < rc.size()) {
      fmt::print(stderr, "heat: {} points for {} engines; give every engine a point at least\n",
                 points, rc.size());
      return 2;
    }
    const auto rod = initial_rod(std::size_t(points));
    auto team = rc[mpiply::all];  // engine i holds block i and is rank i of the team
    team.scatter("rod", rod);
    auto ar = team.apply_async(heat_steps, steps);

    // The serial reference, computed while the engines work.
    auto t0 = std::chrono::steady_clock::now();
    const auto want = serial_heat(rod, steps);
    std::chrono::duration<double> serial = std::chrono::steady_clock::now() - t0;

    const auto heat = ar.get();  // every engine reports the same two sums
    const auto got = team.gather<double>("rod");
    double max_diff = got.size() == want.size() ? 0.0 : INFINITY;
    for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i)
      max_diff = std::max(max_diff, std::abs(got[i] - want[i]));
    const double scale = *std::max_element(rod.begin(), rod.end());
    // Each engine holds the allreduced sums (MPI does not promise them bitwise equal on every
    // rank, so the first engine's stand for all).
    const double drift = std::abs(heat[0][1] - heat[0][0]) / std::abs(heat[0][0]);

    fmt::print("{} points, {} steps on {} engine(s): engines {:.3f} s, serial on rank 0 {:.3f} s\n",
               points, steps, rc.size(), ar.wall_time(), serial.count());
    fmt::print("total heat before {:.10g}, after {:.10g} (relative change {:.2g})\n", heat[0][0],
               heat[0][1], drift);
    fmt::print("max abs difference from the serial run: {:.3g}\n", max_diff);
    // Rounding: the parallel and serial runs do the same arithmetic, so more than a few ulps of
    // the largest temperature is a bug. The heat sums carry a million roundings each, and the
    // steps one per point: far below 1e-9 of the total either way.
    bool ok = max_diff <= 8 * scale * 2.2e-16 && drift <= 1e-9;
    fmt::print("heat: {}\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
  });
}
