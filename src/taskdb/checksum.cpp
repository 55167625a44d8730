// XXH3 from Debian's libxxhash-dev, inlined (XXH_INLINE_ALL): the hash is a few functions, and
// inlining keeps the library free of a link dependency an installed static libmpiply.a would
// pass on to its users.
#include "taskdb/checksum.hpp"

#include <cstdlib>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace mpiply::detail {

std::uint64_t result_checksum(std::string_view bytes) noexcept {
  return XXH3_64bits(bytes.data(), bytes.size());
}

std::uint64_t row_checksum(std::string_view strings, std::string_view meta) noexcept {
  // The strings blob's hash seeds the meta blob's: a byte moved from one blob to the other
  // changes the result, as it would with one hash over both.
  return XXH3_64bits_withSeed(meta.data(), meta.size(),
                              XXH3_64bits(strings.data(), strings.size()) ^ strings.size());
}

bool checksums_on() noexcept {
  const char* v = std::getenv("MPIPLY_BENCH_NO_CHECKSUM");
  return !(v && std::strcmp(v, "1") == 0);
}

}  // namespace mpiply::detail
