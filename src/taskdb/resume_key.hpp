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

// Incremental form: the function name first, then the argument bytes in any pieces; the key
// depends only on the name and the bytes' concatenation. Two independent 64-bit lanes (different
// multipliers, rotations and seeds), each a bijection of its state per 8-byte word, finished with
// a full-avalanche mix and the total length.
class KeyHasher {
 public:
  explicit KeyHasher(std::string_view function);
  void update(const void* p, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  ResumeKey finish() const;

 private:
  friend ResumeKey resume_key(const KeyHasher& seed, std::span<const char> args);
  // Each lane: state -> rotl(state ^ (w * K), r) * M + C, a bijection of the state for a fixed w
  // (K and M odd), so two inputs that differ in one word never meet again in either lane.
  static constexpr std::uint64_t kKa = 0x9e3779b97f4a7c15ull, kMa = 0xff51afd7ed558ccdull,
                                 kCa = 0x2545f4914f6cdd1dull;
  static constexpr std::uint64_t kKb = 0xc2b2ae3d27d4eb4full, kMb = 0xc4ceb9fe1a85ec53ull,
                                 kCb = 0x165667b19e3779f9ull;
  static constexpr std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
  void word(std::uint64_t w) {
    a_ = rotl(a_ ^ (w * kKa), 29) * kMa + kCa;
    b_ = rotl(b_ ^ (w * kKb), 37) * kMb + kCb;
  }
  std::uint64_t a_ = 0x243f6a8885a308d3ull, b_ = 0x13198a2e03707344ull;
  std::uint64_t len_ = 0;
  unsigned char tail_[8] = {};
  unsigned tail_n_ = 0;
};

// The argument bytes of a task message: everything after its TaskHeader (kind, item count,
// function id and msg id; the msg id differs between runs). Empty if the message is shorter.
std::span<const char> task_arguments(std::span<const char> message);

// The key of a call of `function` whose message body (after the TaskHeader) is `args`. The name
// is hashed with its length before the bytes, so ("ab", "c...") and ("a", "bc...") differ.
ResumeKey resume_key(std::string_view function, std::span<const char> args);
// The same, from a hasher already seeded with the function's name: rank 0 can keep one per
// function (or per submission) and skip hashing the name for every task.
ResumeKey resume_key(const KeyHasher& seed, std::span<const char> args);

}  // namespace mpiply::detail
