// Must not compile: a registered function may not take a non-const reference (the engine's copy
// of the argument is not the caller's object, so changes could never reach it).
#include <vector>

#include <mpiply/mpiply.hpp>

void fill(std::vector<double>& out) { out.assign(3, 1.0); }
MPIPLY_REGISTER(fill);

int main() { return 0; }
