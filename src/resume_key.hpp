#pragma once
// The resume key of a task: a 128-bit hash of its function's name and its argument bytes (the task
// message after its TaskHeader, which holds the msg id and so differs between runs). Two runs that
// send the same function the same bytes compute the same key; see docs/database.md for the odds
// of two different tasks sharing one.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mpiply::detail {

struct ResumeKey {
  std::uint64_t hi = 0, lo = 0;
  friend bool operator==(const ResumeKey&, const ResumeKey&) = default;
  friend auto operator<=>(const ResumeKey&, const ResumeKey&) = default;
  std::string hex() const;  // 32 hex digits, for people and tools
};

// Incremental form: feed bytes in any pieces; the key depends only on their concatenation.
// Two independent 64-bit lanes (different multipliers, rotations and seeds), each a bijection of
// its state per 8-byte word, finished with a full-avalanche mix and the total length.
class KeyHasher {
 public:
  KeyHasher() = default;
  void update(const void* p, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  ResumeKey finish() const;

 private:
  void word(std::uint64_t w);
  std::uint64_t a_ = 0x243f6a8885a308d3ull, b_ = 0x13198a2e03707344ull;
  std::uint64_t len_ = 0;
  unsigned char tail_[8] = {};
  unsigned tail_n_ = 0;
};

// The key of a call of `function` whose message body (after the TaskHeader) is `args`. The name
// is length-prefixed, so ("ab", "c...") and ("a", "bc...") differ.
ResumeKey resume_key(std::string_view function, std::span<const char> args);

}  // namespace mpiply::detail
