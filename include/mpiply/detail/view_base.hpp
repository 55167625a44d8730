#pragma once
// What every view shares: the scheduler it submits to, and turning a map call into a checked
// MapSource (lengths agree, chunksize positive) before anything is sent.
#include <memory>
#include <string>

#include <fmt/format.h>

#include <mpiply/async_map_result.hpp>
#include <mpiply/async_result.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/map_options.hpp>

namespace mpiply::detail {

class ViewBase {
 public:
  explicit ViewBase(std::shared_ptr<ClientCore> core) : core_(std::move(core)) {}

 protected:
  template <class State>
  std::shared_ptr<State> start(std::shared_ptr<TaskSource> src, std::string fname,
                               std::size_t nitems) {
    auto st = std::make_shared<State>(core_, std::move(fname), nitems);
    src->state = st;
    if (src->ntasks) core_submit(*core_, std::move(src));
    return st;
  }

  template <class F, class... S>
  auto build_map(F f, const MapOptions& opt, const S&... seqs) {
    using Params = typename fn_traits<F>::params;
    static_assert(std::tuple_size_v<Params> == sizeof...(S),
                  "mpiply: map needs one sequence (or Reference) per parameter of the function");
    const FunctionEntry& e = entry_of(f);
    if (opt.chunksize < 1)
      throw UsageError(fmt::format("map({}): chunksize is {}, it must be at least 1", e.name,
                                   opt.chunksize));
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      using Src = MapSource<F, MapArg<std::tuple_element_t<I, Params>, S>...>;
      auto src = std::make_shared<Src>(MapArg<std::tuple_element_t<I, Params>, S>(seqs)...);
      src->fn_id = e.id;
      src->chunk = static_cast<std::size_t>(opt.chunksize);
      // Every sequence must have the length of the first; References broadcast.
      bool have = false;
      std::size_t k = 0;
      std::apply(
          [&](const auto&... a) {
            (
                [&](const auto& arg) {
                  ++k;
                  if (!arg.is_sequence) return;
                  if (!have) {
                    src->n = arg.length();
                    have = true;
                  } else if (arg.length() != src->n) {
                    throw UsageError(fmt::format(
                        "map({}): sequence {} has {} items but the first has {}; every sequence "
                        "must have the same length",
                        e.name, k, arg.length(), src->n));
                  }
                }(a),
                ...);
          },
          src->args);
      if (!have)
        throw UsageError(fmt::format(
            "map({}): no sequence to map over (all arguments are References)", e.name));
      return std::make_pair(src, e.name);
    }(std::index_sequence_for<S...>{});
  }

  std::shared_ptr<ClientCore> core_;
};

}  // namespace mpiply::detail
