#pragma once
// LoadBalancedView: tasks go to whichever engine has the fewest outstanding, as ipyparallel's
// load-balanced view (or as RunOptions::scheme / MPIPLY_SCHEME says). map cuts the input into
// chunks that go to engines as they free up. Flags (task_flags.hpp) add dependencies (after,
// follow), retries, a timeout on the wait to be placed and a subset of engines (targets): on the
// view (set_flags, temp_flags), for one apply (with_flags) or for one map (MapOptions::flags).
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <mpiply/detail/map_methods.hpp>
#include <mpiply/detail/scheduling.hpp>
#include <mpiply/detail/view_base.hpp>
#include <mpiply/imap.hpp>
#include <mpiply/team_map_result.hpp>

namespace mpiply {

class Client;

class LoadBalancedView : public detail::ViewBase, public detail::MapMethods<LoadBalancedView> {
 public:
  // The engines this view balances over, and how many there are.
  const std::vector<int>& targets() const noexcept { return targets_; }
  std::size_t size() const noexcept { return targets_.size(); }
  // A copy of this view with flags f set on top of its own, for one call:
  // view.with_flags({.retries = 2}).apply_async(f, x).
  LoadBalancedView with_flags(const TaskFlags& f) const {
    LoadBalancedView v = *this;
    v.set_flags(f);
    return v;
  }

  // map(f, xs[, ys...][, {.chunksize = k, .ordered = b}]): Python map over zipped sequences (any
  // input ranges); a Reference in place of a sequence is passed unchanged to every call, a
  // sequence of References is resolved item by item. Chunks go to free engines. Inherited from
  // MapMethods: map_async, map_sync, map.

  // imap(f, range[, {.chunksize, .ordered, .flags, .max_outstanding}]): a lazy map over one
  // input range, possibly endless, with at most max_outstanding items on engines
  // (include/mpiply/imap.hpp). imap(f, range, mpiply::return_exceptions[, options]) yields each
  // item's Outcome instead of raising, as get(mpiply::return_exceptions).
  template <class F, std::ranges::input_range R>
    requires(detail::fn_arity<F> == 1)
  ImapResult<detail::result_value_t<F>> imap(F f, R&& range, MapOptions o = {}) const {
    return detail::make_imap<false>(*this, f, std::forward<R>(range), o, targets_.size());
  }
  template <class F, std::ranges::input_range R>
    requires(detail::fn_arity<F> == 1)
  ImapResult<detail::result_value_t<F>, true> imap(F f, R&& range, ReturnExceptions,
                                                   MapOptions o = {}) const {
    return detail::make_imap<true>(*this, f, std::forward<R>(range), o, targets_.size());
  }

  // f must be registered, and not collective; arguments are checked against its parameters at
  // compile time.
  template <class F, class... A>
  AsyncResult<detail::result_value_t<F>> apply_async(F f, A&&... a) {
    using V = detail::result_value_t<F>;
    const auto& e = detail::entry_of(f);
    detail::check_collective_use(*core_, e, detail::CollectiveUse::load_balanced_apply);
    if (detail::has_scheduling_flags(flags_))
      detail::check_task_flags(*core_, flags_, targets_, e.name.c_str());
    auto src = detail::make_apply_source<F>(e.id, std::forward<A>(a)...);
    src->ntasks = 1;
    if (subset_) src->candidates = targets_;
    return AsyncResult<V>(start<detail::ResultState<V>>(std::move(src), e.name, 1));
  }
  // A team task (docs/resources.md "Teams"): f(a...) runs on k engines at once, placed by the
  // scheduler on k idle engines, and inside it mpiply::task_comm() (engine_comm.hpp) is their
  // communicator, team rank 0..k-1 in ascending engine id. As DirectView::apply on k engines,
  // get() gives the k members' values in team-rank order and metadata()[i] names member i's
  // engine. A member that raised makes get() raise RemoteError naming its engine and team
  // rank. The view's flags apply (priority, targets, timeout, resources per member); k is the
  // TaskFlags::engines flag for this call. The overload without k reads the view's flag.
  template <class F, class... A>
  AsyncMapResult<detail::result_value_t<F>> apply_team_async(unsigned k, F f, A&&... a) {
    LoadBalancedView v = *this;
    v.flags_.engines = k;
    return v.submit_team(f, std::forward<A>(a)...);
  }
  // auto: clang 14 forms the return type before it checks the constraint, and F = the count
  // of the overload above has no result type.
  template <class F, class... A>
    requires(!std::is_integral_v<F>)
  auto apply_team_async(F f, A&&... a) {
    return submit_team(f, std::forward<A>(a)...);
  }
  template <class... A>
  auto apply_team_sync(A&&... a) {
    return apply_team_async(std::forward<A>(a)...).get();
  }
  template <class... A>
  auto apply_team(A&&... a) {
    return apply_team_sync(std::forward<A>(a)...);
  }

  // apply_team_root(k, f, a...): as apply_team, but only team rank 0's value comes back (the
  // other members' values stay on their engines); any member's failure still fails the task,
  // naming that member. An AsyncResult<T>; metadata()[r] is member r's.
  template <class F, class... A>
  AsyncResult<detail::result_value_t<F>> apply_team_root_async(unsigned k, F f, A&&... a) {
    using V = detail::result_value_t<F>;
    LoadBalancedView v = *this;
    v.flags_.engines = k;
    const auto& e = detail::entry_of(f);
    detail::check_collective_use(*core_, e, detail::CollectiveUse::load_balanced_apply);
    detail::check_task_flags(*core_, v.flags_, targets_, e.name.c_str(), true);
    std::shared_ptr<detail::TaskSource> inner =
        detail::make_apply_source<F>(e.id, std::forward<A>(a)...);
    inner->ntasks = 1;
    // Started as a ResultState<V>, whose factory the hub uses (team_source.hpp).
    std::shared_ptr<detail::ResultState<V>> st =
        std::make_shared<detail::RootState<V>>(core_, e.name, k, k);
    return AsyncResult<V>(v.start_with(st, v.team_source(std::move(inner), k, true)));
  }
  template <class... A>
  auto apply_team_root_sync(A&&... a) {
    return apply_team_root_async(std::forward<A>(a)...).get();
  }
  template <class... A>
  auto apply_team_root(A&&... a) {
    return apply_team_root_sync(std::forward<A>(a)...);
  }

  // map_team(k, f, xs[, ys...][, mpiply::MapOptions{...}]): each item runs as one team task of
  // k engines (as apply_team), teams of different items side by side on disjoint engines, one-
  // engine tasks backfilling the rest. A TeamMapResult (team_map_result.hpp): item i's value is
  // its k members' values in team-rank order. map_team_root: item i's value is team rank 0's
  // alone. Options: chunksize must be 1 (one item is one team task; to give a team more work,
  // pass it a vector per item), ordered must be true; flags are this call's, over the view's.
  template <class F, class... S>
  TeamMapResult<detail::result_value_t<F>> map_team_async(unsigned k, F f, S&&... s) {
    return team_map<false>(k, f, std::forward<S>(s)...);
  }
  template <class F, class... S>
  std::vector<std::vector<detail::result_value_t<F>>> map_team_sync(unsigned k, F f, S&&... s) {
    return map_team_async(k, f, std::forward<S>(s)...).get();
  }
  template <class F, class... S>
  std::vector<std::vector<detail::result_value_t<F>>> map_team(unsigned k, F f, S&&... s) {
    return map_team_sync(k, f, std::forward<S>(s)...);
  }
  template <class F, class... S>
  TeamMapResult<detail::result_value_t<F>, true> map_team_root_async(unsigned k, F f, S&&... s) {
    return team_map<true>(k, f, std::forward<S>(s)...);
  }
  template <class F, class... S>
  std::vector<detail::result_value_t<F>> map_team_root_sync(unsigned k, F f, S&&... s) {
    return map_team_root_async(k, f, std::forward<S>(s)...).get();
  }
  template <class F, class... S>
  std::vector<detail::result_value_t<F>> map_team_root(unsigned k, F f, S&&... s) {
    return map_team_root_sync(k, f, std::forward<S>(s)...);
  }

  template <class F, class... A>
  detail::result_value_t<F> apply_sync(F f, A&&... a) {
    return apply_async(f, std::forward<A>(a)...).get();
  }
  template <class F, class... A>
  detail::result_value_t<F> apply(F f, A&&... a) {
    return apply_sync(f, std::forward<A>(a)...);
  }

 private:
  friend class Client;
  template <class, std::size_t, class>
  friend class detail::MapArity;

  // subset: targets are some of the engines, so the scheduler must keep tasks to them.
  LoadBalancedView(std::shared_ptr<detail::ClientCore> core, std::vector<int> targets,
                   bool subset = false)
      : ViewBase(std::move(core)), targets_(std::move(targets)), subset_(subset) {}

  template <class F, class... A>
  AsyncMapResult<detail::result_value_t<F>> submit_team(F f, A&&... a) {
    using V = detail::result_value_t<F>;
    const auto& e = detail::entry_of(f);
    detail::check_collective_use(*core_, e, detail::CollectiveUse::load_balanced_apply);
    // Throws UsageError for a team that cannot be: no size, larger than the engines, isolated.
    detail::check_task_flags(*core_, flags_, targets_, e.name.c_str(), true);
    auto src = detail::make_apply_source<F>(e.id, std::forward<A>(a)...);
    unsigned k = *flags_.engines;
    src->ntasks = k;
    src->team = true;
    if (subset_) src->candidates = targets_;
    return AsyncMapResult<V>(start<detail::ResultState<V>>(std::move(src), e.name, k), true);
  }

  std::shared_ptr<detail::TeamSource> team_source(std::shared_ptr<detail::TaskSource> inner,
                                                  unsigned k, bool root_only) const {
    auto src = std::make_shared<detail::TeamSource>(std::move(inner), k, root_only);
    if (subset_) src->candidates = targets_;
    return src;
  }

  // map_team's arguments: one sequence per parameter of f, then optionally MapOptions.
  template <bool Root, class F, class... S>
  TeamMapResult<detail::result_value_t<F>, Root> team_map(unsigned k, F f, S&&... s) {
    static_assert(detail::fn_arity<F> != std::numeric_limits<std::size_t>::max(),
                  "mpiply: map_team's function must be a registered function (a function "
                  "pointer): MPIPLY_REGISTER(fn)");
    constexpr std::size_t n = detail::fn_arity<F>;
    static_assert(n >= 1 && (sizeof...(S) == n || sizeof...(S) == n + 1),
                  "mpiply: map_team(k, f, ...) needs one sequence (or Reference) per parameter "
                  "of f, then optionally mpiply::MapOptions{...}");
    auto t = std::forward_as_tuple(std::forward<S>(s)...);
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      MapOptions o{};
      if constexpr (sizeof...(S) == n + 1) {
        using Last = std::remove_cvref_t<std::tuple_element_t<n, std::tuple<S...>>>;
        static_assert(std::is_same_v<Last, MapOptions>,
                      "mpiply: map_team's last argument after the sequences must be "
                      "mpiply::MapOptions{...}");
        o = std::get<n>(t);
      }
      return run_team_map<Root>(
          k, f, o,
          detail::MapInput<detail::param_t<F, I>>(std::get<I>(std::move(t)))...);
    }(std::make_index_sequence<n>{});
  }

  template <bool Root, class F, class... In>
  TeamMapResult<detail::result_value_t<F>, Root> run_team_map(unsigned k, F f,
                                                              const MapOptions& o, In&&... in) {
    using V = detail::result_value_t<F>;
    const std::string& fname = detail::entry_of(f).name;
    if (o.chunksize != 1)
      throw UsageError(fmt::format(
          "map_team({}): chunksize is {}, but each item of a team map is one team task; leave "
          "chunksize at 1, and to give a team more work per task pass it a vector per item",
          fname, o.chunksize));
    if (!o.ordered)
      throw UsageError(fmt::format("map_team({}): ordered = false is not supported for team "
                                   "maps; iterate in item order, or wait on value(i) per item",
                                   fname));
    LoadBalancedView v = *this;
    v.flags_ = merge_flags(v.flags_, o.flags);
    v.flags_.engines = k;
    detail::check_task_flags(*core_, v.flags_, targets_, fname.c_str(), true);
    auto [src, name] = v.build_map(f, o, std::move(in)...);
    if (src->n * std::size_t(k) > std::numeric_limits<std::uint32_t>::max())
      throw UsageError(fmt::format("map_team({}): {} items of {} members are more member tasks "
                                   "than one submission holds; split the map",
                                   fname, src->n, k));
    src->ntasks = static_cast<std::uint32_t>(src->n);  // chunk 1: one task per item
    std::size_t items = src->n;
    std::shared_ptr<detail::ResultState<V>> st;
    if constexpr (Root) {
      // Started as a ResultState<V>, whose factory the hub uses (team_source.hpp).
      st = std::make_shared<detail::RootState<V>>(core_, name, items * k, k);
      st = v.start_with(st, v.team_source(src, k, true));
    } else {
      st = v.start_with(std::make_shared<detail::ResultState<V>>(core_, name, items * k),
                        v.team_source(src, k, false));
    }
    return TeamMapResult<V, Root>(std::move(st), items, k);
  }

  template <class F, class... In>
  AsyncMapResult<detail::result_value_t<F>> run_map(F f, const MapOptions& o, In&&... in) {
    using V = detail::result_value_t<F>;
    auto call_flags = temp_flags(o.flags);  // this call's flags, over the view's
    if (detail::has_scheduling_flags(flags_))
      detail::check_task_flags(*core_, flags_, targets_, detail::entry_of(f).name.c_str());
    auto [src, name] = build_map(f, o, std::move(in)...);
    std::size_t n = src->n;
    src->ntasks = static_cast<std::uint32_t>((n + src->chunk - 1) / src->chunk);
    if (subset_) src->candidates = targets_;
    return AsyncMapResult<V>(start<detail::ResultState<V>>(std::move(src), name, n), o.ordered);
  }

  std::vector<int> targets_;
  bool subset_ = false;
};

}  // namespace mpiply
