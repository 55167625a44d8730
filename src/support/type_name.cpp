// Readable type names for messages.
#include <mpiply/detail/type_name.hpp>

#include <cstdlib>
#include <cxxabi.h>
#include <memory>

namespace mpiply::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> p(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                           std::free);
  return status == 0 && p ? std::string(p.get()) : std::string(mangled);
}


}  // namespace mpiply::detail
