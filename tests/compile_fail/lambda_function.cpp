// Must not compile: a lambda passed as a task's function. Engines find functions by registered
// name, so the error must say how to register one (MPIPLY_REGISTER_AS with +lambda).
#include <mpiply/mpiply.hpp>

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    rc.load_balanced_view().apply_async([](double x) { return x * x; }, 3.0);
    return 0;
  });
}
