#include <mpiply/mpiply.hpp>
#include <fmt/core.h>
static_assert(MPIPLY_VERSION >= 100, "mpiply/version.hpp is installed with the headers");
int twice(int x) { return 2 * x; }
MPIPLY_REGISTER(twice);
int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    int y = rc.load_balanced_view().apply_sync(twice, 21);
    fmt::print("consumer: mpiply {}, twice(21) = {}\n", mpiply::version_string, y);
    return y == 42 ? 0 : 1;
  });
}
