// Must not compile: a struct with a std::string member and no serialize(). The error must name
// the fix (a serialize() member) instead of failing deep inside Boost.Serialization.
#include <string>

#include <mpiply/mpiply.hpp>

struct Particle {
  std::string name;
  double mass;
};
double mass_of(Particle p) { return p.mass; }
MPIPLY_REGISTER(mass_of);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    rc.load_balanced_view().apply(mass_of, Particle{"proton", 1.0});
    return 0;
  });
}
