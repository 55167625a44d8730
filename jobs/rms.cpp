// rms: ipyparallel's one-line map/reduce root-mean-square, locally and on the engines.
//
//   In [38]: X = np.linspace(0,100)
//   In [42]: sqrt(reduce(add, map(sq, X)) / len(X))          -> 58.028845747399714
//   In [43]: sqrt(reduce(add, v.map(sq, X)) / len(X))        -> 58.028845747399714
//
//   mpirun -n 4 ./build/jobs/rms     (or ./build/jobs/rms on one rank)
//
// Both lines must print 58.028845747399714; the job exits 1 if they differ. The squares are summed
// left to right, as Python's reduce does, so the last digit matches the reference.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include <mpiply/mpiply.hpp>

double sq(double x) { return x * x; }
MPIPLY_REGISTER(sq);

namespace {

// numpy.linspace(0, 100) (50 points): x_i = i * (100 / 49) as numpy computes it (100 * i / 49
// differs in the last bit for a few i, but gives the same RMS), with the end point exactly 100.
std::vector<double> linspace_0_100() {
  const int n = 50;
  std::vector<double> x(n);
  const double step = 100.0 / (n - 1);
  for (int i = 0; i < n; ++i) x[std::size_t(i)] = i * step;
  x.back() = 100.0;
  return x;
}

// sqrt(reduce(add, squares) / len): std::accumulate adds left to right, like reduce.
double rms_of_squares(const std::vector<double>& squares) {
  return std::sqrt(std::accumulate(squares.begin(), squares.end(), 0.0) / double(squares.size()));
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  po::options_description opts("options");
  opts.add_options()("help,h", "print this text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fmt::print(stderr, "rms: {}; try --help\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    fmt::print(
        "usage: mpirun -n N rms\n\n"
        "Computes the RMS of 50 evenly spaced points from 0 to 100 locally (std::transform)\n"
        "and through load_balanced_view().map, prints both with 17 significant digits\n"
        "(58.028845747399714), and exits 1 if they differ.\n\n");
    std::cout << opts;
    return 0;
  }
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    const auto X = linspace_0_100();

    // Locally: map(sq, X).
    std::vector<double> local(X.size());
    std::transform(X.begin(), X.end(), local.begin(), sq);
    const double rms_local = rms_of_squares(local);

    // On the engines: v.map(sq, X), results back in input order.
    auto v = rc.load_balanced_view();
    const double rms_remote = rms_of_squares(v.map(sq, X));

    fmt::print("{:.17g}\n", rms_local);
    fmt::print("{:.17g}\n", rms_remote);
    if (rms_local != rms_remote) {
      fmt::print(stderr, "rms: local and remote results differ\n");
      return 1;
    }
    return 0;
  });
}
