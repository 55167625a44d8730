// Must not compile: a std::string passed for a double parameter.
#include <string>

#include <mpiply/mpiply.hpp>

double square(double x) { return x * x; }
MPIPLY_REGISTER(square);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    rc.load_balanced_view().apply_async(square, std::string("3"));
    return 0;
  });
}
