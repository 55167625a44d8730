// Must not compile: pushing a std::string_view into the engines' namespaces.
#include <string_view>

#include <mpiply/mpiply.hpp>

int main(int argc, char** argv) {
  return mpiply::run(argc, argv, [](mpiply::Client& rc) {
    std::string_view name = "engine data";
    rc[mpiply::all].push({{"name", name}});
    return 0;
  });
}
