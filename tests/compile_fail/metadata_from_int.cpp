// Must not compile: rc.metadata(3) names a msg id with a plain int.
#include <mpiply/mpiply.hpp>

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    return rc.metadata(3).engine_id;
  });
}
