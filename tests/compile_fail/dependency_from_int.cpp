// Must not compile: a plain int is not a msg id (write mpiply::MsgId{n}).
#include <mpiply/mpiply.hpp>

double square(double x) { return x * x; }
MPIPLY_REGISTER(square);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    auto lv = rc.load_balanced_view();
    lv.set_flags({.after = mpiply::Dependency(3)});
    return static_cast<int>(lv.apply(square, 2.0));
  });
}
