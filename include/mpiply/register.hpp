#pragma once
// Registering the functions engines may run. At namespace scope, next to the definition:
//   double square(double x) { return x * x; }
//   MPIPLY_REGISTER(square);
// or at run time, on every rank, before mpiply::run: mpiply::register_function("square", square).
// A function that calls MPI collectives on mpiply::engine_comm() is registered with
// MPIPLY_REGISTER_COLLECTIVE, so the views refuse to run it anywhere but on every engine at once.
// MPIPLY_REGISTER_VERSIONED(fn, "2") says its stored results survive a rebuild (docs/database.md).
#include <string>

#include <mpiply/detail/invoke.hpp>

namespace mpiply {

template <class F>
bool register_function(std::string name, F f) {
  return detail::register_fn(std::move(name), +f);
}
// The run-time form of MPIPLY_REGISTER_VERSIONED.
template <class F>
bool register_versioned_function(std::string name, F f, std::string version) {
  return detail::register_fn(std::move(name), +f, false, std::move(version), true);
}
// The run-time form of MPIPLY_REGISTER_COLLECTIVE.
template <class F>
bool register_collective_function(std::string name, F f) {
  return detail::register_fn(std::move(name), +f, true);
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
// Registers fn with a version: its results stored in the task database stay valid across
// rebuilds of the program for as long as the version string stays the same (by default a
// stored result is reused only by the build that made it). Change the version when the
// function's results change:
//   double energy(double x) { ... }
//   MPIPLY_REGISTER_VERSIONED(energy, "2");
#define MPIPLY_REGISTER_VERSIONED(fn, version)                                  \
  [[maybe_unused]] static const bool MPIPLY_DETAIL_CAT(mpiply_registered_, __COUNTER__) = \
      ::mpiply::detail::register_fn(#fn, &fn, false, version, true)
// Registers fn as collective: it may be applied only to every engine at once
// (rc[mpiply::all].apply(fn, ...)); any other view, a subset of engines or a map raises
// mpiply::UsageError before anything is sent, since the engines left out would never enter the
// collective and the others would wait for them for ever.
#define MPIPLY_REGISTER_COLLECTIVE(fn)                                          \
  [[maybe_unused]] static const bool MPIPLY_DETAIL_CAT(mpiply_registered_, __COUNTER__) = \
      ::mpiply::detail::register_fn(#fn, &fn, true)
