// Unit tests of the wire codec (include/mpiply/detail/codec.hpp): every supported kind of value
// round-trips, and every truncation of an encoding raises ValueDecodeError instead of reading past the
// end. Corrupt input is in test_codec_corrupt.cpp. No MPI traffic: each rank runs the same checks.
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

#include "codec_support.hpp"

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
  CHECK_THROWS_AS(Codec<int>::decode(r), ValueDecodeError);
}
