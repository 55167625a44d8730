// Must not compile: load_balanced_view(true) would mean engine 1 (a bool is no engine id).
#include <mpiply/mpiply.hpp>

double square(double x) { return x * x; }
MPIPLY_REGISTER(square);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    return static_cast<int>(rc.load_balanced_view(true).apply(square, 2.0));
  });
}
