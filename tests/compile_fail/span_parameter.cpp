// Must not compile: a std::span parameter (a pointer and a length; the pointer is meaningless on
// another rank).
#include <numeric>
#include <span>
#include <vector>

#include <mpiply/mpiply.hpp>

double total(std::span<const double> xs) { return std::accumulate(xs.begin(), xs.end(), 0.0); }
MPIPLY_REGISTER(total);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    std::vector<double> xs{1, 2, 3};
    rc.load_balanced_view().apply(total, std::span<const double>(xs));
    return 0;
  });
}
