#pragma once
// Registering the functions engines may run. At namespace scope, next to the definition:
//   double square(double x) { return x * x; }
//   MPIPLY_REGISTER(square);
// or at run time, on every rank, before mpiply::run: mpiply::register_function("square", square).
#include <string>

#include <mpiply/detail/invoke.hpp>

namespace mpiply {

template <class F>
bool register_function(std::string name, F f) {
  return detail::register_fn(std::move(name), +f);
}

}  // namespace mpiply

#define MPIPLY_DETAIL_CAT2(a, b) a##b
#define MPIPLY_DETAIL_CAT(a, b) MPIPLY_DETAIL_CAT2(a, b)
// Registers fn under its spelled name (e.g. "square" or "physics::step").
#define MPIPLY_REGISTER(fn)                                                     \
  [[maybe_unused]] static const bool MPIPLY_DETAIL_CAT(mpiply_registered_, __COUNTER__) = \
      ::mpiply::detail::register_fn(#fn, &fn)
// Registers a function pointer (an overload, or a captureless lambda with +) under a chosen name.
#define MPIPLY_REGISTER_AS(name, fnptr)                                         \
  [[maybe_unused]] static const bool MPIPLY_DETAIL_CAT(mpiply_registered_, __COUNTER__) = \
      ::mpiply::detail::register_fn(name, fnptr)
