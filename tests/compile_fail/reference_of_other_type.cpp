// Must not compile: Reference<int> passed for a double parameter.
#include <mpiply/mpiply.hpp>

double square(double x) { return x * x; }
MPIPLY_REGISTER(square);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    rc.direct_view().apply_async(square, mpiply::Reference<int>("x"));
    return 0;
  });
}
