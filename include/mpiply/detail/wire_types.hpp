#pragma once
// Which C++ types may cross the wire, and how. Plain data is copied as bytes; types that only
// point at memory (views, pointers) are refused at compile time with a message naming what to
// send instead, because their bytes mean nothing on another rank even though they are
// trivially copyable.
#include <array>
#include <complex>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

#include <boost/serialization/is_bitwise_serializable.hpp>

#include <mpiply/bitwise.hpp>

namespace mpiply {
struct None;
}

namespace mpiply::detail {

template <class T>
struct is_string_view : std::false_type {};
template <class C, class Tr>
struct is_string_view<std::basic_string_view<C, Tr>> : std::true_type {};
template <class T>
struct is_span : std::false_type {};
template <class T, std::size_t N>
struct is_span<std::span<T, N>> : std::true_type {};

// Bitwise without asking: the standard's plain types and fixed-size aggregates of them.
template <class T>
struct auto_bitwise
    : std::bool_constant<(std::is_arithmetic_v<T> || std::is_enum_v<T>) &&
                         !std::is_same_v<T, std::nullptr_t>> {};
template <class T>
struct auto_bitwise<std::complex<T>> : std::is_arithmetic<T> {};
template <class T, std::size_t N>
struct auto_bitwise<std::array<T, N>> : auto_bitwise<T> {};

template <class T>
inline constexpr bool opted_in_bitwise =
    is_bitwise<T>::value || boost::serialization::is_bitwise_serializable<T>::value;

// Copied as raw bytes: plain data, or a user type that opted in.
template <class T>
concept Bitwise = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
                  !std::is_member_pointer_v<T> && !std::is_same_v<T, None> &&
                  !is_string_view<T>::value && !is_span<T>::value &&
                  (auto_bitwise<T>::value || opted_in_bitwise<T>);

// Whether Boost.Serialization can find a serialize() for T: a member, or a free function found
// by argument-dependent lookup. (Boost's catch-all template would accept any type and fail deep
// inside Boost, so it cannot be asked.)
struct ProbeArchive {
  template <class U>
  ProbeArchive& operator&(U&&);
  template <class U>
  ProbeArchive& operator<<(U&&);
  template <class U>
  ProbeArchive& operator>>(U&&);
};
template <class T>
concept HasSerializeMember = requires(T& t, ProbeArchive& ar) { t.serialize(ar, 0u); };
template <class T>
concept HasSerializeFree = requires(T& t, ProbeArchive& ar) { serialize(ar, t, 0u); };

template <class T>
inline constexpr bool points_elsewhere = is_string_view<T>::value || is_span<T>::value ||
                                         std::is_pointer_v<T> || std::is_member_pointer_v<T> ||
                                         std::is_array_v<T>;
template <class T>
inline constexpr bool bytes_allowed = !std::is_trivially_copyable_v<T> || Bitwise<T> ||
                                      HasSerializeMember<T> || HasSerializeFree<T>;
template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};
// A plain struct (an aggregate) with members that are not plain data, e.g. a std::string, and
// no serialize(): Boost would reject it deep in its own templates, so it is refused here with
// the fix. Only aggregates are judged: other classes (std::list, std::variant, ...) may be
// serialized by a Boost header the user included, which a probe cannot see.
template <class T>
inline constexpr bool needs_serialize =
    std::is_class_v<T> && std::is_aggregate_v<T> && !std::is_trivially_copyable_v<T> &&
    !is_std_array<T>::value && !HasSerializeMember<T> && !HasSerializeFree<T>;
template <class T>
inline constexpr bool wire_ok = !points_elsewhere<T> && bytes_allowed<T> && !needs_serialize<T>;

// Compile-time refusals, one message per kind of mistake; every value type that reaches the wire
// passes through here.
template <class T>
constexpr void check_wire_type() {
  static_assert(!is_string_view<T>::value,
                "mpiply: a std::string_view cannot be sent: it points into this rank's memory; "
                "use std::string (parameter, result or pushed value)");
  static_assert(!is_span<T>::value,
                "mpiply: a std::span cannot be sent: it points into this rank's memory; use "
                "std::vector (parameter, result or pushed value)");
  static_assert(!std::is_pointer_v<T> && !std::is_member_pointer_v<T> && !std::is_array_v<T>,
                "mpiply: a pointer cannot be sent: the address means nothing on another rank; "
                "send the value itself, std::string for text (not const char*) or std::vector "
                "for an array");
  static_assert(points_elsewhere<T> || bytes_allowed<T>,
                "mpiply: this trivially copyable type is not sent as raw bytes unless it opts "
                "in, since it may hold pointers: if its bytes mean the same on every rank, "
                "specialise mpiply::is_bitwise<T> as std::true_type (or use "
                "BOOST_IS_BITWISE_SERIALIZABLE(T)); otherwise give it a Boost serialize()");
  static_assert(!needs_serialize<T>,
                "mpiply: this struct cannot be sent: it holds members that are not plain data "
                "(a std::string, a container, ...) and has no serialize(). Give it a member "
                "template <class Archive> void serialize(Archive& ar, unsigned) { ar & a & b; } "
                "naming every member (or a free serialize(Archive&, T&, unsigned) in its "
                "namespace); see README, Sending your own types");
}

}  // namespace mpiply::detail
