#pragma once
// Opting a user struct in to raw-byte transfer. mpiply copies arithmetic types, enums and
// std::array/std::complex of them as bytes on its own; a struct travels as bytes only when its
// author says its bytes mean the same on every rank (no pointers, no views, no handles):
//   template <> struct mpiply::is_bitwise<Vec3> : std::true_type {};
// or with Boost's BOOST_IS_BITWISE_SERIALIZABLE(Vec3). Anything else needs a Boost serialize().
#include <type_traits>

namespace mpiply {

template <class T>
struct is_bitwise : std::false_type {};

}  // namespace mpiply
