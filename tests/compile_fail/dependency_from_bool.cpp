// Must not compile: Dependency(ar, true) would name msg id 1 (a bool is no msg id).
#include <mpiply/mpiply.hpp>

double square(double x) { return x * x; }
MPIPLY_REGISTER(square);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    auto lv = rc.load_balanced_view();
    auto ar = lv.apply_async(square, 2.0);
    mpiply::Dependency d(ar, true);
    return static_cast<int>(d.msg_ids.size());
  });
}
