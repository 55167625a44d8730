// Must not compile: a const char* parameter (the address of rank 0's text, not the text).
#include <cstring>

#include <mpiply/mpiply.hpp>

std::size_t length(const char* s) { return std::strlen(s); }
MPIPLY_REGISTER(length);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    rc.load_balanced_view().apply(length, "hello");
    return 0;
  });
}
