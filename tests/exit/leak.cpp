// Built only under AddressSanitizer (tests/exit/CMakeLists.txt): a megabyte that code of the
// program allocates and drops, on rank 0 and in a task on every engine, is reported by
// LeakSanitizer and fails the run. What MPI allocates in MPI_Init and MPI_Finalize is ignored
// (src/runtime/environment.cpp); this shows that the program's own allocations are not.
#include <cstddef>
#include <cstring>

#include <mpiply/mpiply.hpp>

namespace {

// Where the block's address goes before it is dropped, so the compiler keeps the allocation.
char* volatile last_block = nullptr;

long leak_on_purpose(long bytes) {
  char* block = new char[static_cast<std::size_t>(bytes)];
  std::memset(block, 1, static_cast<std::size_t>(bytes));
  last_block = block;
  last_block = nullptr;
  return bytes;
}

}  // namespace

MPIPLY_REGISTER(leak_on_purpose);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& c) {
    leak_on_purpose(1L << 20);
    for (int e : c.ids()) c[e].apply_async(leak_on_purpose, 1L << 20).get();
    return 0;
  });
}
