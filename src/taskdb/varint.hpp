#pragma once
// The integer coding of the task database's packed rows (task_db_block.hpp): LEB128 varints,
// with signed values zigzag-coded first so that a small negative delta stays one byte. Shared by
// the writers of a row (BlockStrings, BlockEncoder) and its reader (decode_block).
#include <cstddef>
#include <cstdint>
#include <string>

namespace mpiply::detail {

// At most 10 bytes for a 64-bit value.
inline constexpr std::size_t kMaxVarintBytes = 10;

// Into room the caller reserved (kMaxVarintBytes); returns the end. The record writer reserves
// a whole record's room once, so each field costs no capacity check.
inline char* put_varint(char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

inline void put_varint(std::string& out, std::uint64_t v) {
  char buf[kMaxVarintBytes];
  char* end = put_varint(buf, v);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

inline std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

}  // namespace mpiply::detail
