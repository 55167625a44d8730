#pragma once
// One entry of a push task as the engine reads it from the message (push_entry.cpp): its name,
// type and value bytes, or the prefix of a value whose bulk follows as an MPI segment.
#include <cstdint>
#include <string>

#include <mpiply/detail/codec.hpp>

namespace mpiply::detail {

struct PushEntry {
  std::string name, type;
  const char* bytes = nullptr;  // inline value, or the prefix before a segment
  std::uint64_t len = 0;
  bool segment = false;
  std::uint64_t segment_len = 0;
};

// Reads the next entry; the bytes stay in the message. Throws ValueDecodeError for a mode that
// is neither inline nor segment, and for lengths whose sum would wrap.
PushEntry read_push_entry(Reader& r);

}  // namespace mpiply::detail
