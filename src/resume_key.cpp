// The resume key hash (see resume_key.hpp and docs/database.md). Written for accidental
// collisions only: it is not a cryptographic hash, and a database is trusted input.
#include "resume_key.hpp"

#include <cstring>

#include <fmt/format.h>

namespace mpiply::detail {

namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// A full-avalanche 64-bit finaliser (every input bit flips each output bit with probability ~1/2).
constexpr std::uint64_t avalanche(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

void KeyHasher::word(std::uint64_t w) {
  // Each lane: state -> rotl(state ^ (w * K), r) * M + C, a bijection of the state for a fixed w
  // (K and M odd), so two inputs that differ in one word never meet again in either lane.
  a_ = rotl(a_ ^ (w * 0x9e3779b97f4a7c15ull), 29) * 0xff51afd7ed558ccdull + 0x2545f4914f6cdd1dull;
  b_ = rotl(b_ ^ (w * 0xc2b2ae3d27d4eb4full), 37) * 0xc4ceb9fe1a85ec53ull + 0x165667b19e3779f9ull;
}

void KeyHasher::update(const void* p, std::size_t n) {
  const auto* s = static_cast<const unsigned char*>(p);
  len_ += n;
  if (tail_n_ > 0) {
    std::size_t take = std::min<std::size_t>(8 - tail_n_, n);
    std::memcpy(tail_ + tail_n_, s, take);
    tail_n_ += static_cast<unsigned>(take);
    s += take;
    n -= take;
    if (tail_n_ < 8) return;
    std::uint64_t w;
    std::memcpy(&w, tail_, 8);
    word(w);
    tail_n_ = 0;
  }
  for (; n >= 8; s += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, s, 8);
    word(w);
  }
  std::memcpy(tail_, s, n);
  tail_n_ = static_cast<unsigned>(n);
}

ResumeKey KeyHasher::finish() const {
  KeyHasher h = *this;
  if (h.tail_n_ > 0) {
    // Zero padding is unambiguous because the length is mixed in below.
    std::uint64_t w = 0;
    std::memcpy(&w, h.tail_, h.tail_n_);
    h.word(w);
  }
  ResumeKey k;
  k.hi = avalanche(h.a_ ^ avalanche(len_ + 0x9e3779b97f4a7c15ull));
  k.lo = avalanche(h.b_ ^ avalanche(~len_ * 0xc2b2ae3d27d4eb4full));
  return k;
}

std::string ResumeKey::hex() const { return fmt::format("{:016x}{:016x}", hi, lo); }

ResumeKey resume_key(std::string_view function, std::span<const char> args) {
  KeyHasher h;
  std::uint64_t n = function.size();
  h.update(&n, sizeof n);
  h.update(function);
  h.update(args.data(), args.size());
  return h.finish();
}

}  // namespace mpiply::detail
