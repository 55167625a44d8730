#pragma once
// Shared by the codec tests (test_codec.cpp, test_codec_corrupt.cpp): value types of each kind
// the codec handles, and encode/decode helpers that check every byte is consumed.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/serialization/is_bitwise_serializable.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <catch2/catch.hpp>

#include <mpiply/mpiply.hpp>

using mpiply::ValueDecodeError;
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
// with ValueDecodeError (no type here has an encoding whose prefix is itself a valid encoding).
template <class T>
T roundtrip(const T& v) {
  Bytes b = encode(v);
  for (std::size_t n = 0; n < b.size(); ++n) {
    INFO("prefix of " << n << " of " << b.size() << " bytes");
    Reader r(b.data(), n);
    CHECK_THROWS_AS(Codec<T>::decode(r), ValueDecodeError);
  }
  return decode<T>(b.data(), b.size());
}

// True when decoding b as T raises ValueDecodeError (any other exception propagates and fails).
template <class T>
bool decode_fails(const Bytes& b) {
  Reader r(b.data(), b.size());
  try {
    (void)Codec<T>::decode(r);
  } catch (const ValueDecodeError&) {
    return true;
  }
  return false;
}

// A buffer that starts with a huge element count and has almost nothing after it.
inline Bytes huge_count(std::uint64_t n) {
  Bytes b;
  Writer w(b);
  w.u64(n);
  w.u64(0);
  return b;
}

}  // namespace
