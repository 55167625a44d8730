// Must not compile: rc.wait(true) would wait for msg id 1 (a bool is no msg id).
#include <mpiply/mpiply.hpp>

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    return rc.wait(true) ? 0 : 1;
  });
}
