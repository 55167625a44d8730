#pragma once
// What the soak tests share: whether AddressSanitizer is on (its allocator changes what memory
// figures mean) and reading this process's memory figures from /proc/self/status.
#include <fstream>
#include <string>

namespace mpiply_test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#else
inline constexpr bool kAsan = false;
#endif

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
