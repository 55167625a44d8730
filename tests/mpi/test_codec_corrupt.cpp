// Corrupt input to the wire codec: a huge length or element count, or a damaged Boost archive,
// raises ValueDecodeError before any large allocation, and the Reader's primitives are bounds-checked.
// No MPI traffic: each rank runs the same checks.
#include <array>
#include <atomic>
#include <complex>
#include <span>
#include <string_view>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/serialization/is_bitwise_serializable.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

// "Does not allocate" is measured, not assumed: while an AllocGuard lives, this binary's global
// operator new records the largest request and refuses any above kAllocCap (so a decoder that
// trusts a corrupt length cannot take the machine's memory down with the test).
namespace {
constexpr std::size_t kAllocCap = std::size_t(64) << 20;
std::atomic<bool> g_guard{false};
std::atomic<std::size_t> g_largest{0};
struct AllocGuard {
  AllocGuard() {
    g_largest = 0;
    g_guard = true;
  }
  ~AllocGuard() { g_guard = false; }
  std::size_t largest() const { return g_largest; }
};
}  // namespace

void* operator new(std::size_t n) {
  if (g_guard.load(std::memory_order_relaxed)) {
    std::size_t prev = g_largest.load(std::memory_order_relaxed);
    while (n > prev && !g_largest.compare_exchange_weak(prev, n)) {
    }
    if (n > kAllocCap) throw std::bad_alloc();
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC cannot see that these pair with the malloc in operator new above.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
// The other forms allocate through the one above, so every delete meets a malloc'd block (a
// sanitizer checks that each allocation is freed by its own family).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return operator new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

#include "codec_support.hpp"

TEST_CASE("a huge corrupt length raises ValueDecodeError without allocating", "[codec]") {
  // Lengths so large that honouring them would need petabytes: the decoder must compare them
  // with the bytes actually left before reserving anything.
  for (std::uint64_t n : {std::uint64_t{1} << 40, std::uint64_t{1} << 60, ~std::uint64_t{0}}) {
    INFO("length " << n);
    Bytes b = huge_count(n);
    AllocGuard guard;
    CHECK(decode_fails<std::string>(b));
    CHECK(decode_fails<std::vector<double>>(b));
    CHECK(decode_fails<std::vector<Plain>>(b));
    CHECK(decode_fails<std::vector<bool>>(b));
    CHECK(decode_fails<std::vector<std::string>>(b));
    CHECK(decode_fails<std::vector<std::vector<int>>>(b));
    CHECK(decode_fails<std::map<std::string, int>>(b));
    CHECK(decode_fails<std::set<int>>(b));
    // The Boost blob's own length prefix.
    CHECK(decode_fails<Record>(b));
    CHECK(guard.largest() < 4096);
  }
}

TEST_CASE("a huge count of zero-size elements raises ValueDecodeError without allocating",
          "[codec]") {
  // None (and std::tuple<>) encode to no bytes, so the bytes left cannot bound their count:
  // the decoder must still not loop 2^60 times growing a vector.
  Bytes b = huge_count(std::uint64_t{1} << 60);
  AllocGuard guard;
  bool decode_error = false;
  try {
    Reader r(b.data(), b.size());
    (void)Codec<std::vector<mpiply::None>>::decode(r);
  } catch (const ValueDecodeError&) {
    decode_error = true;
  } catch (const std::bad_alloc&) {
  }
  std::size_t largest = guard.largest();
  CHECK(decode_error);
  CHECK(largest < kAllocCap);
}

TEST_CASE("a corrupt length inside a Boost archive raises ValueDecodeError", "[codec]") {
  // Encode a record whose vector has a recognisable count, then overwrite that count inside the
  // archive (the outer blob length stays right). Boost's binary_iarchive resizes the vector to
  // whatever it reads (a bad length field alone can make it allocate gigabytes); mpiply
  // must reject it as ValueDecodeError without a large allocation.
  Record rec{"n", {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0}, {}};
  const Bytes good = encode(rec);
  const std::uint64_t seven = 7;
  std::size_t at = good.size();
  for (std::size_t i = 8; i + 8 <= good.size(); ++i)
    if (std::memcmp(good.data() + i, &seven, 8) == 0) {
      at = i;
      break;
    }
  REQUIRE(at < good.size());
  // 1 GiB, 8 GiB and 2^61 doubles: none fits in the 56 bytes actually present.
  for (std::uint64_t huge : {std::uint64_t{1} << 27, std::uint64_t{1} << 30,
                             std::uint64_t{1} << 61}) {
    INFO("inner count " << huge);
    Bytes b = good;
    std::memcpy(b.data() + at, &huge, 8);
    AllocGuard guard;
    bool decode_error = false;
    try {
      Reader r(b.data(), b.size());
      (void)Codec<Record>::decode(r);
    } catch (const ValueDecodeError&) {
      decode_error = true;
    }
    std::size_t largest = guard.largest();
    CHECK(decode_error);
    INFO("largest single allocation request: " << largest << " bytes");
    CHECK(largest < kAllocCap);
  }

  // An archive cut short inside (outer length adjusted to match) fails the same way.
  Bytes cut;
  Writer w(cut);
  std::uint64_t inner = good.size() - 8 - 20;
  w.u64(inner);
  w.raw(good.data() + 8, inner);
  Reader r2(cut.data(), cut.size());
  CHECK_THROWS_AS(Codec<Record>::decode(r2), ValueDecodeError);
}

TEST_CASE("Reader primitives are bounds-checked", "[codec]") {
  Bytes b;
  Writer w(b);
  w.u32(5);
  w.str("abc");
  Reader r(b.data(), b.size());
  CHECK(r.u32() == 5);
  CHECK(r.str() == "abc");
  CHECK(r.remaining() == 0);
  CHECK_THROWS_AS(r.u8(), ValueDecodeError);
  CHECK_THROWS_AS(r.take(1), ValueDecodeError);
  Reader r3(b.data(), b.size());
  CHECK_THROWS_AS(r3.sub(b.size() + 1), ValueDecodeError);
  // count() rejects more elements than the remaining bytes could hold.
  Bytes c = huge_count(3);
  Reader r4(c.data(), c.size());
  CHECK_THROWS_AS(r4.count(4), ValueDecodeError);  // 3 x 4 bytes > 8 left
  Reader r5(c.data(), c.size());
  CHECK(r5.count(2) == 3);  // 3 x 2 bytes <= 8 left
}
