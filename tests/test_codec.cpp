// Unit tests of the wire codec (include/mpiply/detail/codec.hpp): every supported kind of value
// round-trips, every truncation of an encoding raises DecodeError instead of reading past the end,
// and a corrupt length field fails before allocating. No MPI traffic: each rank runs the same
// checks on its own.
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

using mpiply::DecodeError;
using mpiply::detail::Bytes;
using mpiply::detail::Codec;
using mpiply::detail::Reader;
using mpiply::detail::Writer;

namespace {

struct Plain {  // trivially copyable, with padding, opted in below: copied as bytes
  char c;
  double d;
  int i;
  bool operator==(const Plain& o) const { return c == o.c && d == o.d && i == o.i; }
};

struct ViaBoostTrait {  // opted in through Boost's trait instead
  float x, y;
  bool operator==(const ViaBoostTrait&) const = default;
};

struct TrivialWithSerialize {  // trivially copyable but not opted in: goes through serialize()
  int a;
  double b;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & a & b;
  }
  bool operator==(const TrivialWithSerialize&) const = default;
};

enum class Colour : std::uint8_t { red = 1, blue = 7 };

}  // namespace

template <>
struct mpiply::is_bitwise<Plain> : std::true_type {};
BOOST_IS_BITWISE_SERIALIZABLE(ViaBoostTrait)

namespace {

struct Record {  // needs Boost.Serialization
  std::string name;
  std::vector<double> xs;
  std::map<std::string, int> counts;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & name & xs & counts;
  }
  bool operator==(const Record&) const = default;
};

template <class T>
Bytes encode(const T& v) {
  Bytes b;
  Writer w(b);
  Codec<T>::encode(w, v);
  return b;
}

template <class T>
T decode(const char* p, std::size_t n) {
  Reader r(p, n);
  T v = Codec<T>::decode(r);
  // A complete encoding is consumed exactly.
  CHECK(r.remaining() == 0);
  return v;
}

// Encodes v, decodes it back, and checks that every proper prefix of the encoding is rejected
// with DecodeError (no type here has an encoding whose prefix is itself a valid encoding).
template <class T>
T roundtrip(const T& v) {
  Bytes b = encode(v);
  for (std::size_t n = 0; n < b.size(); ++n) {
    INFO("prefix of " << n << " of " << b.size() << " bytes");
    Reader r(b.data(), n);
    CHECK_THROWS_AS(Codec<T>::decode(r), DecodeError);
  }
  return decode<T>(b.data(), b.size());
}

// True when decoding b as T raises DecodeError (any other exception propagates and fails).
template <class T>
bool decode_fails(const Bytes& b) {
  Reader r(b.data(), b.size());
  try {
    (void)Codec<T>::decode(r);
  } catch (const DecodeError&) {
    return true;
  }
  return false;
}

// A buffer that starts with a huge element count and has almost nothing after it.
Bytes huge_count(std::uint64_t n) {
  Bytes b;
  Writer w(b);
  w.u64(n);
  w.u64(0);
  return b;
}

}  // namespace

TEST_CASE("arithmetic and trivially copyable values round-trip", "[codec]") {
  CHECK(roundtrip(42) == 42);
  CHECK(roundtrip(-1.25) == -1.25);
  CHECK(roundtrip(std::uint64_t{1} << 63) == std::uint64_t{1} << 63);
  CHECK(roundtrip(true) == true);
  CHECK(roundtrip('z') == 'z');
  CHECK(roundtrip(Plain{'q', 2.5, -9}) == Plain{'q', 2.5, -9});
  CHECK(roundtrip(std::array<int, 3>{1, 2, 3}) == std::array<int, 3>{1, 2, 3});
  // Plain data costs exactly its size.
  CHECK(encode(3.0).size() == sizeof(double));
}

TEST_CASE("which types travel as raw bytes", "[codec]") {
  using mpiply::detail::Bitwise;
  // Automatic: arithmetic, enums, std::complex and std::array of them.
  STATIC_REQUIRE(Bitwise<double>);
  STATIC_REQUIRE(Bitwise<Colour>);
  STATIC_REQUIRE(Bitwise<std::complex<double>>);
  STATIC_REQUIRE(Bitwise<std::array<std::array<float, 2>, 3>>);
  // User structs only when they opt in, by either trait.
  STATIC_REQUIRE(Bitwise<Plain>);
  STATIC_REQUIRE(Bitwise<ViaBoostTrait>);
  STATIC_REQUIRE_FALSE(Bitwise<TrivialWithSerialize>);
  // Views and pointers never, though trivially copyable.
  STATIC_REQUIRE_FALSE(Bitwise<std::string_view>);
  STATIC_REQUIRE_FALSE(Bitwise<std::span<const double>>);
  STATIC_REQUIRE_FALSE(Bitwise<const char*>);
  STATIC_REQUIRE_FALSE(mpiply::detail::wire_ok<std::string_view>);
  STATIC_REQUIRE_FALSE(mpiply::detail::wire_ok<std::span<int>>);
  STATIC_REQUIRE_FALSE(mpiply::detail::wire_ok<double*>);

  CHECK(roundtrip(Colour::blue) == Colour::blue);
  CHECK(roundtrip(std::complex<double>(1.5, -2)) == std::complex<double>(1.5, -2));
  CHECK(roundtrip(ViaBoostTrait{1.5f, 2.5f}) == ViaBoostTrait{1.5f, 2.5f});
  CHECK(encode(ViaBoostTrait{}).size() == sizeof(ViaBoostTrait));
  // A vector of opted-in structs is its count and its bytes.
  CHECK(encode(std::vector<Plain>(4)).size() == 8 + 4 * sizeof(Plain));
  // Not opted in: through Boost, so larger than the raw bytes (blob length and checksum).
  TrivialWithSerialize t{3, 4.5};
  CHECK(roundtrip(t) == t);
  CHECK(encode(t).size() > sizeof(t));
}

TEST_CASE("strings round-trip, including empty and embedded NULs", "[codec]") {
  CHECK(roundtrip(std::string()) == "");
  CHECK(roundtrip(std::string("hello")) == "hello");
  std::string nul("a\0b\0", 4);
  CHECK(roundtrip(nul) == nul);
  std::string big(1 << 16, 'x');
  CHECK(decode<std::string>(encode(big).data(), encode(big).size()) == big);
}

TEST_CASE("vectors round-trip: plain, nested, bool, strings, structs", "[codec]") {
  CHECK(roundtrip(std::vector<double>{}).empty());
  CHECK(roundtrip(std::vector<double>{1.5, -2.0, 3.25}) == std::vector<double>{1.5, -2.0, 3.25});
  CHECK(roundtrip(std::vector<std::vector<int>>{{1}, {}, {2, 3}}) ==
        std::vector<std::vector<int>>{{1}, {}, {2, 3}});
  CHECK(roundtrip(std::vector<bool>{true, false, true}) == std::vector<bool>{true, false, true});
  CHECK(roundtrip(std::vector<std::string>{"a", "", "ccc"}) ==
        std::vector<std::string>{"a", "", "ccc"});
  CHECK(roundtrip(std::vector<Plain>{{'a', 1, 2}, {'b', 3, 4}}) ==
        std::vector<Plain>{{'a', 1, 2}, {'b', 3, 4}});
  // A plain vector is its length plus its bytes, no per-element overhead.
  CHECK(encode(std::vector<double>(10)).size() == 8 + 10 * sizeof(double));
}

TEST_CASE("pair, tuple, optional and associative containers round-trip", "[codec]") {
  auto p = std::make_pair(std::string("k"), 7);
  CHECK(roundtrip(p) == p);
  auto t = std::make_tuple(1, std::string("two"), 3.0, std::vector<int>{4});
  CHECK(roundtrip(t) == t);
  CHECK(roundtrip(std::optional<std::string>{}) == std::nullopt);
  CHECK(roundtrip(std::optional<std::string>{"x"}) == std::optional<std::string>{"x"});
  std::map<std::string, int> m{{"a", 1}, {"b", 2}};
  CHECK(roundtrip(m) == m);
  CHECK(roundtrip(std::map<std::string, int>{}).empty());
  std::multimap<int, int> mm{{1, 1}, {1, 2}, {3, 4}};
  CHECK(roundtrip(mm) == mm);
  std::unordered_map<std::string, double> um{{"x", 1.0}, {"y", 2.0}};
  CHECK(roundtrip(um) == um);
  std::set<int> s{3, 1, 2};
  CHECK(roundtrip(s) == s);
  std::unordered_set<std::string> us{"p", "q"};
  CHECK(roundtrip(us) == us);
}

TEST_CASE("None encodes to nothing", "[codec]") {
  CHECK(encode(mpiply::None{}).size() == 0);
  CHECK(decode<mpiply::None>(nullptr, 0) == mpiply::None{});
}

TEST_CASE("Boost-serializable structs round-trip", "[codec]") {
  Record rec{"rec", {1.0, 2.0, 3.0}, {{"a", 1}}};
  CHECK(roundtrip(rec) == rec);
  CHECK(roundtrip(Record{}) == Record{});
  std::vector<Record> recs{rec, Record{"other", {}, {}}};
  CHECK(roundtrip(recs) == recs);
  auto pr = std::make_pair(rec, 5);
  CHECK(roundtrip(pr) == pr);
}

TEST_CASE("values follow each other in one buffer and decode in order", "[codec]") {
  Bytes b;
  Writer w(b);
  Codec<int>::encode(w, 1);
  Codec<std::string>::encode(w, "two");
  Codec<std::vector<double>>::encode(w, {3.0});
  Reader r(b.data(), b.size());
  CHECK(Codec<int>::decode(r) == 1);
  CHECK(Codec<std::string>::decode(r) == "two");
  CHECK(Codec<std::vector<double>>::decode(r) == std::vector<double>{3.0});
  CHECK(r.remaining() == 0);
  CHECK_THROWS_AS(Codec<int>::decode(r), DecodeError);
}

TEST_CASE("a huge corrupt length raises DecodeError without allocating", "[codec]") {
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

TEST_CASE("a huge count of zero-size elements raises DecodeError without allocating",
          "[codec]") {
  // None (and std::tuple<>) encode to no bytes, so the bytes left cannot bound their count:
  // the decoder must still not loop 2^60 times growing a vector.
  Bytes b = huge_count(std::uint64_t{1} << 60);
  AllocGuard guard;
  bool decode_error = false;
  try {
    Reader r(b.data(), b.size());
    (void)Codec<std::vector<mpiply::None>>::decode(r);
  } catch (const DecodeError&) {
    decode_error = true;
  } catch (const std::bad_alloc&) {
  }
  std::size_t largest = guard.largest();
  CHECK(decode_error);
  CHECK(largest < kAllocCap);
}

TEST_CASE("a corrupt length inside a Boost archive raises DecodeError", "[codec]") {
  // Encode a record whose vector has a recognisable count, then overwrite that count inside the
  // archive (the outer blob length stays right). Boost's binary_iarchive resizes the vector to
  // whatever it reads (DESIGN.md: "can allocate gigabytes from one bad length field"); mpiply
  // must reject it as DecodeError without a large allocation.
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
    } catch (const DecodeError&) {
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
  CHECK_THROWS_AS(Codec<Record>::decode(r2), DecodeError);
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
  CHECK_THROWS_AS(r.u8(), DecodeError);
  CHECK_THROWS_AS(r.take(1), DecodeError);
  Reader r3(b.data(), b.size());
  CHECK_THROWS_AS(r3.sub(b.size() + 1), DecodeError);
  // count() rejects more elements than the remaining bytes could hold.
  Bytes c = huge_count(3);
  Reader r4(c.data(), c.size());
  CHECK_THROWS_AS(r4.count(4), DecodeError);  // 3 x 4 bytes > 8 left
  Reader r5(c.data(), c.size());
  CHECK(r5.count(2) == 3);  // 3 x 2 bytes <= 8 left
}
