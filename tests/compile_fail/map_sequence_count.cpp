// Must not compile: a map over one sequence for a two-parameter function.
#include <vector>

#include <mpiply/mpiply.hpp>

double add(double a, double b) { return a + b; }
MPIPLY_REGISTER(add);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    std::vector<double> xs{1, 2, 3};
    rc.load_balanced_view().map(add, xs);
    return 0;
  });
}
