// Must not compile: a std::string_view parameter. It is trivially copyable, so it used to travel
// as its bytes: a pointer into rank 0's memory, garbage on any other rank.
#include <string>
#include <string_view>

#include <mpiply/mpiply.hpp>

std::size_t length(std::string_view s) { return s.size(); }
MPIPLY_REGISTER(length);

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    rc.load_balanced_view().apply(length, std::string("hello"));
    return 0;
  });
}
