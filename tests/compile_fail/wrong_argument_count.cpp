// Must not compile: two arguments for a one-parameter function.
#include <mpiply/mpiply.hpp>

double square(double x) { return x * x; }
MPIPLY_REGISTER(square);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    rc.load_balanced_view().apply_async(square, 1.0, 2.0);
    return 0;
  });
}
