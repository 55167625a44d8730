// Integrity check of Boost.Serialization blobs (FNV-1a over the archive bytes).
#include <mpiply/detail/boost_codec.hpp>

#include <fmt/format.h>

namespace mpiply::detail {

std::uint64_t blob_checksum(const char* p, std::size_t n) noexcept {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

void verify_blob(const char* p, std::size_t n, std::uint64_t expected) {
  std::uint64_t got = blob_checksum(p, n);
  if (got != expected)
    throw ValueDecodeError(fmt::format("a Boost.Serialization blob of {} bytes fails its checksum "
                                  "({:#x}, expected {:#x}): the message is corrupt",
                                  n, got, expected));
}

}  // namespace mpiply::detail
