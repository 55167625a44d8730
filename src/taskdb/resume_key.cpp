// The resume key hash (see resume_key.hpp and docs/database.md). Written for accidental
// collisions only: it is not a cryptographic hash, and a database is trusted input.
#include "taskdb/resume_key.hpp"

#include <cstring>

#include <fmt/format.h>

#include <mpiply/detail/wire.hpp>

namespace mpiply::detail {

namespace {

// A full-avalanche 64-bit finaliser (every input bit flips each output bit with probability ~1/2).
constexpr std::uint64_t avalanche(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

std::uint64_t load64(const unsigned char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// The n < 8 bytes at p as a little-endian word, zero-padded (no call to memcpy for a variable n).
std::uint64_t load_partial(const unsigned char* p, std::size_t n) {
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < n; ++i) w |= std::uint64_t(p[i]) << (8 * i);
  return w;
}

}  // namespace

KeyHasher::KeyHasher(std::string_view function) {
  const auto* p = reinterpret_cast<const unsigned char*>(function.data());
  std::size_t n = function.size();
  for (; n >= 8; p += 8, n -= 8) word(load64(p));
  if (n > 0) word(load_partial(p, n));
  word(function.size() ^ 0x8000000000000000ull);  // ends the name: no name/bytes ambiguity
}

void KeyHasher::update(const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  len_ += n;
  if (tail_n_ > 0) {
    std::size_t take = std::min<std::size_t>(8 - tail_n_, n);
    for (std::size_t i = 0; i < take; ++i) tail_[tail_n_ + i] = p[i];
    tail_n_ += static_cast<unsigned>(take);
    p += take;
    n -= take;
    if (tail_n_ < 8) return;
    word(load64(tail_));
    tail_n_ = 0;
  }
  for (; n >= 8; p += 8, n -= 8) word(load64(p));
  for (std::size_t i = 0; i < n; ++i) tail_[i] = p[i];
  tail_n_ = static_cast<unsigned>(n);
}

ResumeKey KeyHasher::finish() const {
  std::uint64_t a = a_, b = b_;
  if (tail_n_ > 0) {
    // Zero padding is unambiguous because the length is mixed in below.
    std::uint64_t w = load_partial(tail_, tail_n_);
    a = rotl(a ^ (w * kKa), 29) * kMa + kCa;
    b = rotl(b ^ (w * kKb), 37) * kMb + kCb;  // as word(), on copies
  }
  ResumeKey k;
  k.hi = avalanche(a ^ (len_ * kKb));
  k.lo = avalanche(b ^ (~len_ * kKa));
  return k;
}

std::string ResumeKey::hex() const { return fmt::format("{:016x}{:016x}", hi, lo); }

std::span<const char> task_arguments(std::span<const char> message) {
  if (message.size() < sizeof(TaskHeader)) return {};
  return message.subspan(sizeof(TaskHeader));
}

ResumeKey resume_key(const KeyHasher& seed, std::span<const char> args) {
  KeyHasher h = seed;
  if (h.tail_n_ != 0) {  // a seed that was fed bytes after the name: the general path
    h.update(args.data(), args.size());
    return h.finish();
  }
  // One pass without the tail buffer: whole words, then the last partial word read as the top
  // bytes of the final 8 (the same zero-padded word finish() would build).
  const auto* p = reinterpret_cast<const unsigned char*>(args.data());
  std::size_t n = args.size();
  h.len_ = n;
  std::size_t whole = n & ~std::size_t(7);
  for (std::size_t i = 0; i < whole; i += 8) h.word(load64(p + i));
  std::size_t rest = n - whole;
  if (rest > 0) {
    std::uint64_t w = n >= 8 ? load64(p + n - 8) >> (8 * (8 - rest)) : load_partial(p, rest);
    h.word(w);
  }
  ResumeKey k;
  k.hi = avalanche(h.a_ ^ (n * KeyHasher::kKb));
  k.lo = avalanche(h.b_ ^ (~n * KeyHasher::kKa));
  return k;
}

ResumeKey resume_key(std::string_view function, std::span<const char> args) {
  return resume_key(KeyHasher(function), args);
}

}  // namespace mpiply::detail
