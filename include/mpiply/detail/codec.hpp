#pragma once
// How values travel: a compact binary encoding, bounds-checked on decode. Plain data (arithmetic
// types, enums, std::array of them, user structs that opted in through mpiply::is_bitwise, and
// contiguous vectors of all these) is copied as bytes with no per-element work; standard
// containers are encoded element-wise; any other type goes through Boost.Serialization (it needs
// a serialize() member or free function). Views and pointers are refused (wire_types.hpp).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/detail/wire_types.hpp>
#include <mpiply/errors.hpp>

namespace mpiply {
// The value of a task whose function returns void.
struct None {
  friend bool operator==(None, None) { return true; }
};
}  // namespace mpiply

namespace mpiply::detail {

class Writer {
 public:
  explicit Writer(Bytes& b) : b_(b) {}
  void raw(const void* p, std::size_t n) { b_.append(p, n); }
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::memcpy(b_.grow(sizeof(T)), &v, sizeof(T));
  }
  void u8(std::uint8_t v) { pod(v); }
  void u32(std::uint32_t v) { pod(v); }
  void u64(std::uint64_t v) { pod(v); }
  void str(std::string_view s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  std::size_t pos() const { return b_.size(); }
  void truncate(std::size_t pos) { b_.resize(pos); }
  // Overwrites a previously written POD at pos (for length fields written before the payload).
  template <class T>
  void patch(std::size_t pos, const T& v) {
    std::memcpy(b_.data() + pos, &v, sizeof(T));
  }
  Bytes& bytes() { return b_; }

 private:
  Bytes& b_;
};

[[noreturn]] void throw_short_read(std::size_t wanted, std::size_t left);
[[noreturn]] void throw_implausible_count(std::uint64_t n);
// The most elements of an empty type (None, std::tuple<>) one container may hold when decoded.
inline constexpr std::uint64_t kMaxEmptyElements = std::uint64_t(1) << 24;

class Reader {
 public:
  Reader(const char* p, std::size_t n) : p_(p), end_(p + n) {}
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  const char* take(std::size_t n) {
    if (n > remaining()) throw_short_read(n, remaining());
    const char* p = p_;
    p_ += n;
    return p;
  }
  template <class T>
  T pod() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  std::uint8_t u8() { return pod<std::uint8_t>(); }
  std::uint32_t u32() { return pod<std::uint32_t>(); }
  std::uint64_t u64() { return pod<std::uint64_t>(); }
  std::string_view str() {
    auto n = u64();
    return {take(n), n};
  }
  // A count of elements each at least min_size bytes long must fit in what is left: a corrupt
  // length then fails here instead of allocating gigabytes.
  std::uint64_t count(std::size_t min_size) {
    auto n = u64();
    if (min_size && n > remaining() / min_size) throw_short_read(n * min_size, remaining());
    return n;
  }
  Reader sub(std::size_t n) { return Reader(take(n), n); }

 private:
  const char* p_;
  const char* end_;
};

void boost_save_error(const char* what);

// Boost.Serialization fallback, defined in boost_codec.hpp (included by users only when needed).
template <class T>
struct BoostCodec;

template <class T>
struct Codec {
  static_assert((check_wire_type<T>(), true));
  static void encode(Writer& w, const T& v) {
    if constexpr (Bitwise<T>)
      w.pod(v);
    else if constexpr (wire_ok<T>)  // a refused type stops at its own message, not in Boost
      BoostCodec<T>::encode(w, v);
  }
  static T decode(Reader& r) {
    if constexpr (Bitwise<T>)
      return r.pod<T>();
    else if constexpr (wire_ok<T>)
      return BoostCodec<T>::decode(r);
    else
      throw ValueDecodeError("unreachable");
  }
};

template <class T>
void encode(Writer& w, const T& v) {
  Codec<T>::encode(w, v);
}
template <class T>
T decode(Reader& r) {
  return Codec<T>::decode(r);
}

template <>
struct Codec<None> {
  static void encode(Writer&, None) {}
  static None decode(Reader&) { return {}; }
};

template <class C, class Tr, class A>
struct Codec<std::basic_string<C, Tr, A>> {
  using S = std::basic_string<C, Tr, A>;
  static void encode(Writer& w, const S& s) {
    w.u64(s.size());
    w.raw(s.data(), s.size() * sizeof(C));
  }
  static S decode(Reader& r) {
    auto n = r.count(sizeof(C));
    S s;
    s.resize(n);
    std::memcpy(s.data(), r.take(n * sizeof(C)), n * sizeof(C));
    return s;
  }
};

// Vectors of plain data of at least this many bytes get their destination advised for huge pages
// before the copy, so decoding a big array does not crawl through 4 KiB page faults.
inline constexpr std::size_t kHugeAdviceBytes = std::size_t(4) << 20;

template <class T, class A>
struct Codec<std::vector<T, A>> {
  using V = std::vector<T, A>;
  static void encode(Writer& w, const V& v) {
    w.u64(v.size());
    if constexpr (Bitwise<T>) {
      w.raw(v.data(), v.size() * sizeof(T));
    } else {
      for (const auto& x : v) Codec<T>::encode(w, x);
    }
  }
  static V decode(Reader& r) {
    V v;
    if constexpr (Bitwise<T>) {
      auto n = r.count(sizeof(T));
      const char* src = r.take(n * sizeof(T));
      v.reserve(n);
      if (n * sizeof(T) >= kHugeAdviceBytes) advise_huge(v.data(), n * sizeof(T));
      v.insert(v.end(), reinterpret_cast<const T*>(src), reinterpret_cast<const T*>(src) + n);
    } else if constexpr (std::is_empty_v<T>) {
      // Empty elements take no bytes, so what is left cannot bound their count.
      auto n = r.u64();
      if (n > kMaxEmptyElements) throw_implausible_count(n);
      v.resize(n);
    } else {
      auto n = r.count(1);
      v.reserve(std::min<std::uint64_t>(n, r.remaining() + 1));
      for (std::uint64_t i = 0; i < n; ++i) v.push_back(Codec<T>::decode(r));
    }
    return v;
  }
};

template <class A>
struct Codec<std::vector<bool, A>> {
  using V = std::vector<bool, A>;
  static void encode(Writer& w, const V& v) {
    w.u64(v.size());
    for (bool b : v) w.u8(b ? 1 : 0);
  }
  static V decode(Reader& r) {
    auto n = r.count(1);
    V v(n);
    const char* p = r.take(n);
    for (std::uint64_t i = 0; i < n; ++i) v[i] = p[i] != 0;
    return v;
  }
};

template <class T, std::size_t N>
struct Codec<std::array<T, N>> {
  using V = std::array<T, N>;
  static void encode(Writer& w, const V& v) {
    for (const auto& x : v) Codec<T>::encode(w, x);
  }
  static V decode(Reader& r) {
    V v;
    for (auto& x : v) x = Codec<T>::decode(r);
    return v;
  }
};

template <class A, class B>
struct Codec<std::pair<A, B>> {
  static void encode(Writer& w, const std::pair<A, B>& v) {
    Codec<A>::encode(w, v.first);
    Codec<B>::encode(w, v.second);
  }
  static std::pair<A, B> decode(Reader& r) {
    A a = Codec<A>::decode(r);
    B b = Codec<B>::decode(r);
    return {std::move(a), std::move(b)};
  }
};

template <class... Ts>
struct Codec<std::tuple<Ts...>> {
  static void encode(Writer& w, const std::tuple<Ts...>& v) {
    std::apply([&](const auto&... x) { (Codec<std::remove_cvref_t<decltype(x)>>::encode(w, x), ...); },
               v);
  }
  static std::tuple<Ts...> decode(Reader& r) {
    // Braced initialisation evaluates left to right, matching the encoding order.
    return std::tuple<Ts...>{Codec<Ts>::decode(r)...};
  }
};

template <class T>
struct Codec<std::optional<T>> {
  static void encode(Writer& w, const std::optional<T>& v) {
    w.u8(v ? 1 : 0);
    if (v) Codec<T>::encode(w, *v);
  }
  static std::optional<T> decode(Reader& r) {
    if (!r.u8()) return std::nullopt;
    return Codec<T>::decode(r);
  }
};

// Associative containers: a count, then each element.
template <class C, class Elem>
struct AssocCodec {
  static void encode(Writer& w, const C& c) {
    w.u64(c.size());
    for (const auto& e : c) Codec<Elem>::encode(w, Elem(e));
  }
  static C decode(Reader& r) {
    auto n = r.count(0);
    C c;
    for (std::uint64_t i = 0; i < n; ++i) c.insert(Codec<Elem>::decode(r));
    return c;
  }
};
template <class K, class V, class Cmp, class A>
struct Codec<std::map<K, V, Cmp, A>> : AssocCodec<std::map<K, V, Cmp, A>, std::pair<K, V>> {};
template <class K, class V, class Cmp, class A>
struct Codec<std::multimap<K, V, Cmp, A>>
    : AssocCodec<std::multimap<K, V, Cmp, A>, std::pair<K, V>> {};
template <class K, class V, class H, class E, class A>
struct Codec<std::unordered_map<K, V, H, E, A>>
    : AssocCodec<std::unordered_map<K, V, H, E, A>, std::pair<K, V>> {};
template <class K, class Cmp, class A>
struct Codec<std::set<K, Cmp, A>> : AssocCodec<std::set<K, Cmp, A>, K> {};
template <class K, class H, class E, class A>
struct Codec<std::unordered_set<K, H, E, A>> : AssocCodec<std::unordered_set<K, H, E, A>, K> {};

}  // namespace mpiply::detail

#include <mpiply/detail/boost_codec.hpp>
