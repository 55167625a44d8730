// Fuzz target: reading a bundle (src/wire/bundle.hpp), as an engine's TaskInbox reads one from
// rank 0 and rank 0's ResultInbox one from an engine. The input is the message as received.
//
// What must hold for every input: no crash or sanitizer report; a message that is not a bundle
// is left alone; reading a bundle either fails with mpiply::Error or yields exactly the count its
// header gives, each piece inside the message, 8-aligned from its start, after the one before it,
// and no bytes left over.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include <mpiply/errors.hpp>

#include "wire/bundle.hpp"

namespace d = mpiply::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy in memory of its own, 8-aligned like a receive buffer, so reads past it are caught.
  std::vector<std::uint64_t> words((size + 7) / 8);
  if (size) std::memcpy(words.data(), data, size);
  std::span<const char> msg(reinterpret_cast<const char*>(words.data()), size);
  if (!d::is_bundle(msg)) return 0;
  try {
    d::BundleReader r(msg);
    std::uint32_t count = r.left(), seen = 0;
    const char* end_of_last = msg.data() + sizeof(d::BundleHeader);
    std::span<const char> p;
    while (r.left() > 0 && r.next(p)) {
      ++seen;
      if (p.data() < end_of_last || p.data() + p.size() > msg.data() + msg.size()) std::abort();
      if ((p.data() - msg.data()) % 8 != 0) std::abort();
      end_of_last = p.data() + p.size();
    }
    if (seen != count || r.next(p)) std::abort();
  } catch (const mpiply::Error&) {
    // Refused, saying why: what a receiver does with it.
  }
  return 0;
}
