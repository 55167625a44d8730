#pragma once
// The map methods shared by the views: map_async / map_sync / map(f, seq..., options), one
// sequence (or Reference) per parameter of f and then, optionally, MapOptions, which may be
// written {.chunksize = 4, .ordered = false}. A braced list cannot be deduced as part of a
// parameter pack, so the sequences are not deduced at all: MapArity<N> declares, for a function
// of N parameters, N parameters of type MapInput<parameter type> (each converting from any input
// range) and a trailing MapOptions. MapMethods gathers MapArity<1..kMaxMapArity>; a call that fits
// none of them meets a static_assert that says what map expects. Derived provides
// run_map(f, options, inputs...).
#include <cstddef>
#include <limits>
#include <type_traits>
#include <utility>

#include <mpiply/async_map_result.hpp>
#include <mpiply/detail/invoke.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/map_options.hpp>

namespace mpiply::detail {

inline constexpr std::size_t kMaxMapArity = 8;

// Parameters of F, or "not a registered function" for anything else.
template <class F>
inline constexpr std::size_t fn_arity = std::numeric_limits<std::size_t>::max();
template <class R, class... A>
inline constexpr std::size_t fn_arity<R (*)(A...)> = sizeof...(A);
template <class R, class... A>
inline constexpr std::size_t fn_arity<R (*)(A...) noexcept> = sizeof...(A);

// The I-th parameter of F, or NoParameter where F has none: every MapArity overload's signature
// is formed for every F, and a compiler may form it before it checks the overload's constraint
// (clang 14 does), so a missing parameter must not be an error there.
struct NoParameter {};
template <class F, std::size_t I>
struct param_at {
  using type = NoParameter;
};
template <class F, std::size_t I>
  requires(fn_arity<F> <= kMaxMapArity && I < fn_arity<F>)
struct param_at<F, I> {
  using type = std::tuple_element_t<I, typename fn_traits<F>::params>;
};
template <class F, std::size_t I>
using param_t = typename param_at<F, I>::type;

template <class Derived, std::size_t N, class = std::make_index_sequence<N>>
class MapArity;

template <class Derived, std::size_t N, std::size_t... I>
class MapArity<Derived, N, std::index_sequence<I...>> {
 public:
  template <class F>
    requires(fn_arity<F> == N)
  AsyncMapResult<result_value_t<F>> map_async(F f, MapInput<param_t<F, I>>... s,
                                              MapOptions o = {}) {
    return static_cast<Derived&>(*this).run_map(f, o, std::move(s)...);
  }
  template <class F>
    requires(fn_arity<F> == N)
  std::vector<result_value_t<F>> map_sync(F f, MapInput<param_t<F, I>>... s, MapOptions o = {}) {
    return map_async(f, std::move(s)..., o).get();
  }
  // map blocks, as map_sync.
  template <class F>
    requires(fn_arity<F> == N)
  std::vector<result_value_t<F>> map(F f, MapInput<param_t<F, I>>... s, MapOptions o = {}) {
    return map_async(f, std::move(s)..., o).get();
  }
};

// Whether map(f, a...) fits one of the MapArity overloads (a braced MapOptions never reaches the
// catch-all: it cannot be deduced, so such calls are only ever checked by MapArity).
template <class F, class... A>
constexpr bool map_call_fits() {
  constexpr std::size_t n = fn_arity<F>;
  if constexpr (n == 0 || n > kMaxMapArity) {
    return false;
  } else if constexpr (sizeof...(A) == n + 1) {
    using Last = std::remove_cvref_t<std::tuple_element_t<n, std::tuple<A...>>>;
    return std::is_same_v<Last, MapOptions>;
  } else {
    return sizeof...(A) == n;
  }
}

template <class Derived, class = std::make_index_sequence<kMaxMapArity>>
class MapMethods;

template <class Derived, std::size_t... I>
class MapMethods<Derived, std::index_sequence<I...>> : public MapArity<Derived, I + 1>... {
 public:
  using MapArity<Derived, I + 1>::map_async...;
  using MapArity<Derived, I + 1>::map_sync...;
  using MapArity<Derived, I + 1>::map...;

  // Misuse lands here, for a message instead of a list of candidates.
  template <class F, class... A>
    requires(!map_call_fits<F, A...>())
  void map_async(F, A&&...) {
    misuse<F, A...>();
  }
  template <class F, class... A>
    requires(!map_call_fits<F, A...>())
  void map_sync(F, A&&...) {
    misuse<F, A...>();
  }
  template <class F, class... A>
    requires(!map_call_fits<F, A...>())
  void map(F, A&&...) {
    misuse<F, A...>();
  }

 private:
  template <class F, class... A>
  static void misuse() {
    static_assert(fn_arity<F> != std::numeric_limits<std::size_t>::max(),
                  "mpiply: map's first argument must be a registered function (a function "
                  "pointer, not a lambda or functor): register a free function with "
                  "MPIPLY_REGISTER(fn), or a captureless lambda with "
                  "MPIPLY_REGISTER_AS(\"f\", +f) and pass +f");
    static_assert(fn_arity<F> == std::numeric_limits<std::size_t>::max() ||
                      fn_arity<F> <= kMaxMapArity,
                  "mpiply: map supports functions of at most 8 parameters");
    static_assert(fn_arity<F> == std::numeric_limits<std::size_t>::max() ||
                      map_call_fits<F, A...>(),
                  "mpiply: map needs one sequence (or Reference) per parameter of the function, "
                  "then optionally MapOptions");
  }
};

}  // namespace mpiply::detail
