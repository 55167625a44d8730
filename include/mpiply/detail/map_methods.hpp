#pragma once
// The map overload set shared by both views: map_async / map_sync / map over one to three
// sequences with trailing MapOptions, which may be written as {.chunksize = 4, .ordered = false}.
// Derived provides run_map(f, options, sequences...).
#include <mpiply/async_map_result.hpp>
#include <mpiply/detail/invoke.hpp>
#include <mpiply/map_options.hpp>

namespace mpiply::detail {

template <class Derived>
class MapMethods {
 public:
  template <class F, class S1>
  AsyncMapResult<result_value_t<F>> map_async(F f, const S1& s1, MapOptions o = {}) {
    return self().run_map(f, o, s1);
  }
  template <class F, class S1, class S2>
  AsyncMapResult<result_value_t<F>> map_async(F f, const S1& s1, const S2& s2,
                                              MapOptions o = {}) {
    return self().run_map(f, o, s1, s2);
  }
  template <class F, class S1, class S2, class S3>
  AsyncMapResult<result_value_t<F>> map_async(F f, const S1& s1, const S2& s2, const S3& s3,
                                              MapOptions o = {}) {
    return self().run_map(f, o, s1, s2, s3);
  }

  template <class F, class S1>
  std::vector<result_value_t<F>> map_sync(F f, const S1& s1, MapOptions o = {}) {
    return map_async(f, s1, o).get();
  }
  template <class F, class S1, class S2>
  std::vector<result_value_t<F>> map_sync(F f, const S1& s1, const S2& s2, MapOptions o = {}) {
    return map_async(f, s1, s2, o).get();
  }
  template <class F, class S1, class S2, class S3>
  std::vector<result_value_t<F>> map_sync(F f, const S1& s1, const S2& s2, const S3& s3,
                                          MapOptions o = {}) {
    return map_async(f, s1, s2, s3, o).get();
  }

  // map blocks, as map_sync.
  template <class F, class S1>
  std::vector<result_value_t<F>> map(F f, const S1& s1, MapOptions o = {}) {
    return map_sync(f, s1, o);
  }
  template <class F, class S1, class S2>
  std::vector<result_value_t<F>> map(F f, const S1& s1, const S2& s2, MapOptions o = {}) {
    return map_sync(f, s1, s2, o);
  }
  template <class F, class S1, class S2, class S3>
  std::vector<result_value_t<F>> map(F f, const S1& s1, const S2& s2, const S3& s3,
                                     MapOptions o = {}) {
    return map_sync(f, s1, s2, s3, o);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace mpiply::detail
