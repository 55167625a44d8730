#pragma once
// DirectView: explicit targets, as ipyparallel's DirectView. apply runs on every target; map
// partitions the input across the targets; push/pull/scatter/gather move data in and out of the
// engines' namespaces. client[i] is the single-engine form (engine_view.hpp).
#include <array>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <ranges>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <mpiply/detail/map_methods.hpp>
#include <mpiply/detail/namespace_sources.hpp>
#include <mpiply/detail/pull_into.hpp>
#include <mpiply/detail/view_base.hpp>
#include <mpiply/name_proxy.hpp>
#include <mpiply/named_value.hpp>

namespace mpiply {

class Client;
class EngineView;

namespace detail {
// Several names pulled at once need one name each, none empty (a braced list shorter than the
// types leaves empty strings behind).
void check_pull_names(const std::string* names, std::size_t n);
}  // namespace detail

class DirectView : public detail::ViewBase, public detail::MapMethods<DirectView> {
 public:
  // A copy of this view with flags f set on top of its own, for one call.
  DirectView with_flags(const TaskFlags& f) const {
    DirectView v = *this;
    v.set_flags(f);
    return v;
  }
  const std::vector<int>& targets() const noexcept { return targets_; }
  // Number of targets.
  std::size_t size() const noexcept { return targets_.size(); }

  // Runs f(a...) once on every target; results in target order, get_dict() by engine id.
  // A collective function (MPIPLY_REGISTER_COLLECTIVE) must target every engine, once each.
  template <class F, class... A>
  AsyncMapResult<detail::result_value_t<F>> apply_async(F f, A&&... a) {
    using V = detail::result_value_t<F>;
    const auto& e = detail::entry_of(f);
    detail::check_collective_use(*core_, e, detail::CollectiveUse::direct_apply, targets_);
    auto src = detail::make_apply_source<F>(e.id, std::forward<A>(a)...);
    return AsyncMapResult<V>(start_fixed<detail::ResultState<V>>(std::move(src), e.name), true);
  }
  template <class F, class... A>
  std::vector<detail::result_value_t<F>> apply_sync(F f, A&&... a) {
    return apply_async(f, std::forward<A>(a)...).get();
  }
  template <class F, class... A>
  std::vector<detail::result_value_t<F>> apply(F f, A&&... a) {
    return apply_sync(f, std::forward<A>(a)...);
  }

  // map(f, xs[, ys...][, {.chunksize = k, .ordered = b}]) partitions the input into one
  // contiguous block per target (sizes differ by at most one), each block sent in chunks of
  // chunksize items. Inherited from MapMethods: map_async, map_sync, map.

  // Blocking push: returns once every target stored the values. Large lvalue arrays are sent
  // from the caller's memory without a copy.
  void push(std::initializer_list<NamedValue> values) { push_borrowed(values).get(); }
  void push(const std::vector<NamedValue>& values) { push_borrowed(values).get(); }
  // Non-blocking push: takes the values (copying arrays they borrow), so the caller may change
  // or drop its data at once.
  AsyncMapResult<None> push_async(std::vector<NamedValue> values);

  template <class T>
  AsyncMapResult<T> pull_async(const std::string& name) {
    auto src = detail::make_pull_source(name, {detail::type_tag<T>()});
    return AsyncMapResult<T>(start_fixed<detail::PullState<T>>(std::move(src), "pull"), true);
  }
  // One value per target, in target order.
  template <class T>
  std::vector<T> pull(const std::string& name) {
    return pull_async<T>(name).get();
  }
  // Several names at once, one type each: dv.pull<int, std::string>({"a", "s"}) gives one
  // std::tuple<int, std::string> per target, in target order. Every pull is sent before any
  // is waited for.
  template <class... T>
    requires(sizeof...(T) >= 2)
  std::vector<std::tuple<T...>> pull(const std::array<std::string, sizeof...(T)>& names) {
    detail::check_pull_names(names.data(), names.size());
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      auto pending = std::make_tuple(pull_async<T>(names[I])...);
      auto values = std::make_tuple(std::get<I>(pending).get()...);
      std::vector<std::tuple<T...>> out;
      out.reserve(targets_.size());
      for (std::size_t t = 0; t < targets_.size(); ++t)
        out.emplace_back(std::move(std::get<I>(values)[t])...);
      return out;
    }(std::index_sequence_for<T...>{});
  }

  // Splits seq (any input range) into one contiguous block per target (ipyparallel's
  // partitioning) and stores block i as `name` on target i, as a std::vector of the range's
  // value type. With flatten, one-item blocks are stored as the item itself.
  // The asynchronous form copies or moves the blocks out of seq first.
  template <std::ranges::input_range Seq>
  AsyncMapResult<None> scatter_async(const std::string& name, Seq&& seq, bool flatten = false) {
    return scatter_impl(name, std::forward<Seq>(seq), flatten, false);
  }
  // The blocking form sends large blocks of a contiguous range straight from its memory.
  template <std::ranges::input_range Seq>
  void scatter(const std::string& name, Seq&& seq, bool flatten = false) {
    scatter_impl(name, std::forward<Seq>(seq), flatten, true).get();
  }

  // Concatenates `name` from every target in target order (blocks or flattened items).
  template <class T>
  AsyncResult<std::vector<T>> gather_async(const std::string& name) {
    auto src =
        detail::make_pull_source(name, {detail::type_tag<std::vector<T>>(), detail::type_tag<T>()});
    return AsyncResult<std::vector<T>>(
        start_fixed<detail::GatherState<T>>(std::move(src), "gather"));
  }
  template <class T>
  std::vector<T> gather(const std::string& name) {
    return gather_async<T>(name).get();
  }

  // pull_into / gather_into (detail/pull_into.hpp): std::vector<T> of bitwise T written straight
  // into memory the caller owns; no vector is made and the hub keeps no copy (get_result of
  // such a task says where the value went). Blocking. outs[i] takes target i's vector and must
  // have exactly its size: on a wrong size, type or a missing name that target's span is left
  // untouched and the call throws (RemoteError, or CompositeError for several, naming the name,
  // the engine and both sizes) after the other targets' spans were filled.
  template <class T>
  void pull_into(const std::string& name, const std::vector<std::span<T>>& outs) {
    if (outs.size() != targets_.size())
      throw UsageError(fmt::format("pull_into('{}'): {} spans for {} targets; give one span per "
                                   "target, in target order",
                                   name, outs.size(), targets_.size()));
    std::vector<std::span<char>> dest;
    for (std::span<T> s : outs) dest.push_back(bytes_of(s));
    into<T>(name, std::move(dest), false);
  }
  // Every target's block, in target order, into out (as gather): target i's block must be the
  // i-th share of out.size() items as scatter splits them (a scatter of out.size() items does).
  template <class T>
  void gather_into(const std::string& name, std::span<T> out) {
    std::vector<std::span<char>> dest;
    for (auto [b, n] : detail::partition(out.size(), targets_.size()))
      dest.push_back(bytes_of(out.subspan(b, n)));
    into<T>(name, std::move(dest), true);
  }
  template <class T, class A>
  void gather_into(const std::string& name, std::vector<T, A>& out) {
    gather_into(name, std::span<T>(out));
  }

  // Removes every name from the targets' namespaces.
  AsyncMapResult<None> clear_async();
  void clear() { clear_async().get(); }

  NameProxy<DirectView> operator[](std::string name) const {
    return NameProxy<DirectView>(*this, std::move(name));
  }

 private:
  friend class Client;
  friend class EngineView;
  template <class, std::size_t, class>
  friend class detail::MapArity;

  DirectView(std::shared_ptr<detail::ClientCore> core, std::vector<int> targets)
      : ViewBase(std::move(core)), targets_(std::move(targets)) {}

  template <class State>
  std::shared_ptr<State> start_fixed(std::shared_ptr<detail::TaskSource> src, std::string fname) {
    src->targets.assign(targets_.begin(), targets_.end());
    src->ntasks = static_cast<std::uint32_t>(targets_.size());
    return start<State>(std::move(src), std::move(fname), targets_.size());
  }
  AsyncMapResult<None> push_borrowed(const auto& values) {
    std::vector<const NamedValue*> ptrs;
    for (const auto& v : values) ptrs.push_back(&v);
    return AsyncMapResult<None>(
        start_fixed<detail::ResultState<None>>(detail::make_push_source(ptrs), "push"), true);
  }

  template <class T>
  static std::span<char> bytes_of(std::span<T> s) {
    return {reinterpret_cast<char*>(s.data()), s.size() * sizeof(T)};
  }
  template <class T>
  void into(const std::string& name, std::vector<std::span<char>> dest, bool gather) {
    static_assert(detail::Bitwise<T> && !std::is_const_v<T> && !std::is_same_v<T, bool>,
                  "pull_into / gather_into fill a span of bitwise elements (numbers, trivially "
                  "copyable structs); pull other types with pull");
    std::size_t n = targets_.size();
    std::vector<std::string> types{detail::type_tag<std::vector<T>>()};
    if (gather) types.emplace_back(detail::type_tag<T>());
    auto src = detail::make_pull_source(name, types, sizeof(T));
    src->targets.assign(targets_.begin(), targets_.end());
    src->ntasks = static_cast<std::uint32_t>(n);
    using State = detail::PullIntoState<T>;
    auto st = std::make_shared<State>(core_, gather ? "gather_into" : "pull_into", n);
    st->name = name;
    st->engines = targets_;
    st->dest = std::move(dest);
    st->landed.assign(n, 0);
    st->gather = gather;
    AsyncMapResult<None> r(start_with(st, std::move(src)), true);
    // If the wait ends by an exception (an interrupt) while tasks still run, no value may land
    // in the caller's memory later: the state forgets it, under the client lock.
    struct Forget {
      detail::ClientCore& core;
      State* st;
      int uncaught = std::uncaught_exceptions();
      ~Forget() {
        if (std::uncaught_exceptions() > uncaught) detail::with_client_lock(core, &State::forget, st);
      }
    } forget{*core_, st.get()};
    r.get();
  }

  template <class Seq>
  AsyncMapResult<None> scatter_impl(const std::string& name, Seq&& seq, bool flatten,
                                    bool borrow) {
    using T = std::ranges::range_value_t<Seq>;
    std::vector<NamedValue> parts;
    if constexpr (std::ranges::contiguous_range<Seq> && std::ranges::sized_range<Seq> &&
                  detail::Bitwise<T>) {
      const T* p = std::ranges::data(seq);
      for (auto [b, n] : detail::partition(std::ranges::size(seq), targets_.size())) {
        if (flatten && n == 1)
          parts.emplace_back(name, T(p[b]));
        else if (borrow)
          parts.push_back(NamedValue(NamedValue::BorrowTag{}, name, p + b, n));
        else
          parts.emplace_back(name, std::vector<T>(p + b, p + b + n));
      }
    } else {
      std::vector<T> all;
      if constexpr (std::is_same_v<std::remove_cvref_t<Seq>, std::vector<T>> &&
                    !std::is_lvalue_reference_v<Seq>) {
        all = std::move(seq);
      } else {
        if constexpr (std::ranges::sized_range<Seq>) all.reserve(std::ranges::size(seq));
        for (auto&& x : seq) all.push_back(std::forward<decltype(x)>(x));
      }
      for (auto [b, n] : detail::partition(all.size(), targets_.size())) {
        auto first = std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(b));
        if (flatten && n == 1)
          parts.emplace_back(name, T(std::move(all[b])));
        else
          parts.emplace_back(name, std::vector<T>(first, first + static_cast<std::ptrdiff_t>(n)));
      }
    }
    return AsyncMapResult<None>(start_fixed<detail::ResultState<None>>(
                                    detail::make_scatter_source(parts), "scatter"),
                                true);
  }

  template <class F, class... In>
  AsyncMapResult<detail::result_value_t<F>> run_map(F f, const MapOptions& o, In&&... in) {
    using V = detail::result_value_t<F>;
    auto [src, name] = build_map(f, o, std::move(in)...);
    auto parts = detail::partition(src->n, targets_.size());
    for (std::size_t t = 0; t < targets_.size(); ++t) {
      auto [b, n] = parts[t];
      for (std::size_t off = 0; off < n; off += src->chunk) {
        src->ranges.emplace_back(b + off, static_cast<std::uint32_t>(std::min(src->chunk, n - off)));
        src->targets.push_back(targets_[t]);
      }
    }
    src->ntasks = static_cast<std::uint32_t>(src->ranges.size());
    std::size_t n = src->n;
    return AsyncMapResult<V>(start<detail::ResultState<V>>(std::move(src), name, n), o.ordered);
  }

  std::vector<int> targets_;
};

}  // namespace mpiply
