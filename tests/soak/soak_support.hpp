#pragma once
// What the soak tests share: whether AddressSanitizer is on (its allocator changes what memory
// figures mean) and reading this process's memory figures from /proc/self/status.
#include <fstream>
#include <string>

#include "support/sanitizers.hpp"

namespace mpiply_test {

inline constexpr bool kAsan = MPIPLY_ASAN != 0;

// A "Vm...:  123 kB" line of /proc/self/status, in bytes.
inline long long vm_bytes(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string k;
  long long kib = -1;
  while (f >> k) {
    if (k == key) {
      f >> kib;
      break;
    }
    std::getline(f, k);
  }
  return kib * 1024;
}

}  // namespace mpiply_test
