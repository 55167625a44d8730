// Must not compile: {1, 2} are ints, not msg ids.
#include <mpiply/mpiply.hpp>

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    rc.purge_results({1, 2});
    return 0;
  });
}
