#pragma once
// Splitting one fuzz input into the pieces a target feeds to mpiply, and the check a target
// makes of its own invariants (a failed check aborts, which libFuzzer reports as a crash with the
// input that caused it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace mpiply_fuzz {

// Reads the input front to back; anything asked for past its end comes back empty or zero, so
// every byte string is a valid input.
class InputCursor {
 public:
  InputCursor(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  std::uint8_t byte() { return at_ < n_ ? p_[at_++] : 0; }
  // A piece framed by a little-endian u32 length; a length past the end takes what is left.
  std::string_view piece() {
    std::uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len |= std::uint32_t(byte()) << (8 * i);
    return rest(len);
  }
  std::string_view rest(std::size_t max = SIZE_MAX) {
    std::size_t len = std::min(max, n_ - at_);
    std::string_view s(reinterpret_cast<const char*>(p_) + at_, len);
    at_ += len;
    return s;
  }
  bool done() const { return at_ >= n_; }

 private:
  const std::uint8_t* p_;
  std::size_t n_, at_ = 0;
};

// FUZZ_VERBOSE=1: the targets describe what each input did (to check that seeds reach deep).
inline bool verbose() {
  static const bool v = std::getenv("FUZZ_VERBOSE") != nullptr;
  return v;
}

[[noreturn]] inline void invariant_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n", file, line, what);
  std::abort();
}

}  // namespace mpiply_fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? (void)0 : ::mpiply_fuzz::invariant_failed(#cond, __FILE__, __LINE__))
