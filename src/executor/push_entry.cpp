// Reading one push entry from a task message (push_entry.hpp).
#include "executor/push_entry.hpp"

#include <cstdint>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

PushEntry read_push_entry(Reader& r) {
  PushEntry e;
  e.name = r.str();
  e.type = r.str();
  auto mode = r.u8();
  if (mode > 1) throw ValueDecodeError(fmt::format("push entry mode {} is neither 0 nor 1", mode));
  e.segment = mode == 1;
  e.len = r.u64();
  e.bytes = r.take(e.len);
  if (e.segment) e.segment_len = r.u64();
  if (e.segment_len > SIZE_MAX - e.len)  // the sum sizes the value: it must not wrap
    throw ValueDecodeError(fmt::format("push entry '{}' claims a {}-byte segment", e.name,
                                  e.segment_len));
  return e;
}

}  // namespace mpiply::detail
