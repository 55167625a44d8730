// Must not compile: a trivially copyable struct that holds a pointer and has neither opted in to
// raw-byte transfer nor a Boost serialize(). Trivially copyable is not enough: the pointer would
// arrive as an address in rank 0's memory.
#include <cstddef>
#include <vector>

#include <mpiply/mpiply.hpp>

struct Block {
  const double* data;
  std::size_t n;
};
double first(Block b) { return b.n ? b.data[0] : 0.0; }
MPIPLY_REGISTER(first);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    std::vector<double> xs{1, 2, 3};
    rc.load_balanced_view().apply(first, Block{xs.data(), xs.size()});
    return 0;
  });
}
