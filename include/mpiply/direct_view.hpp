#pragma once
// DirectView: explicit targets, as ipyparallel's DirectView. apply runs on every target; map
// partitions the input across the targets; push/pull/scatter/gather move data in and out of the
// engines' namespaces. EngineView (client[i]) is the single-engine form whose results are single
// values instead of one per target.
#include <initializer_list>
#include <string>
#include <vector>

#include <mpiply/detail/map_methods.hpp>
#include <mpiply/detail/view_base.hpp>
#include <mpiply/named_value.hpp>

namespace mpiply {

namespace detail {
// Pulled values carry the index of the requested type that matched; a plain pull asks for one.
template <class T>
struct PullState : ResultState<T> {
  using ResultState<T>::ResultState;
  void store_value(std::size_t item, Reader& r) override {
    if (r.u8() != 0) throw DecodeError("pull: engine answered with another type");
    this->values[item].emplace(Codec<T>::decode(r));
  }
};
// gather accepts an engine holding a vector<T> (a scattered block) or a lone T (flattened).
template <class T>
struct GatherState : ResultState<std::vector<T>> {
  using ResultState<std::vector<T>>::ResultState;
  void store_value(std::size_t item, Reader& r) override {
    if (r.u8() == 0)
      this->values[item].emplace(Codec<std::vector<T>>::decode(r));
    else
      this->values[item].emplace(std::vector<T>{Codec<T>::decode(r)});
  }
};

std::shared_ptr<FixedSource> make_push_source(const std::vector<const NamedValue*>& values);
std::shared_ptr<FixedSource> make_pull_source(const std::string& name,
                                              const std::vector<std::string>& type_tags);
std::shared_ptr<FixedSource> make_clear_source();
// One push message per target (scatter): each target gets its own entry.
struct PerTargetSource : TaskSource {
  std::vector<Bytes> msgs;
  std::vector<std::vector<Segment>> segs;
  std::size_t item_begin(std::uint32_t task) const override { return task; }
  std::uint32_t item_count(std::uint32_t) const override { return 1; }
  std::span<const char> encode(std::uint32_t task, Bytes& scratch,
                               std::vector<Segment>& segments) override;
};
std::shared_ptr<PerTargetSource> make_scatter_source(std::vector<NamedValue> parts);
}  // namespace detail

class EngineView;

class DirectView : public detail::ViewBase, public detail::MapMethods<DirectView> {
  friend class detail::MapMethods<DirectView>;
  friend class EngineView;

 public:
  DirectView(std::shared_ptr<detail::ClientCore> core, std::vector<int> targets)
      : ViewBase(std::move(core)), targets_(std::move(targets)) {}

  const std::vector<int>& targets() const noexcept { return targets_; }

  // Runs f(a...) once on every target; results in target order, get_dict() by engine id.
  template <class F, class... A>
  AsyncMapResult<detail::result_value_t<F>> apply_async(F f, A&&... a) {
    using V = detail::result_value_t<F>;
    const auto& e = detail::entry_of(f);
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

  // map partitions the input into one contiguous block per target (sizes differ by at most one),
  // each block sent in chunks of chunksize items.
  using MapMethods::map;
  using MapMethods::map_async;
  using MapMethods::map_sync;

  // Blocking push: returns once every target stored the values. Large arrays are sent from the
  // caller's memory without a copy.
  void push(std::initializer_list<NamedValue> values) { push_async_borrowed(values).get(); }
  void push(const std::vector<NamedValue>& values) { push_async_borrowed(values).get(); }
  // Non-blocking push of copies of the values.
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

  // Splits seq into one contiguous block per target (ipyparallel's partitioning) and stores
  // block i as `name` on target i. With flatten, one-item blocks are stored as the item itself.
  template <class Seq>
  AsyncMapResult<None> scatter_async(const std::string& name, const Seq& seq,
                                     bool flatten = false) {
    using T = std::remove_cvref_t<decltype(*std::begin(seq))>;
    std::vector<T> all(std::begin(seq), std::end(seq));
    auto parts = detail::partition(all.size(), targets_.size());
    std::vector<NamedValue> values;
    for (auto [b, n] : parts) {
      if (flatten && n == 1)
        values.emplace_back(name, all[b]);
      else
        values.emplace_back(name, std::vector<T>(all.begin() + b, all.begin() + b + n));
      values.back().own();
    }
    auto src = detail::make_scatter_source(std::move(values));
    return AsyncMapResult<None>(start_fixed<detail::ResultState<None>>(std::move(src), "scatter"),
                                true);
  }
  template <class Seq>
  void scatter(const std::string& name, const Seq& seq, bool flatten = false) {
    scatter_async(name, seq, flatten).get();
  }

  // Concatenates `name` from every target in target order (blocks or flattened items).
  template <class T>
  std::vector<T> gather(const std::string& name) {
    auto src =
        detail::make_pull_source(name, {detail::type_tag<std::vector<T>>(), detail::type_tag<T>()});
    AsyncMapResult<std::vector<T>> r(
        start_fixed<detail::GatherState<T>>(std::move(src), "gather"), true);
    std::vector<T> out;
    for (auto& block : r.get()) out.insert(out.end(), block.begin(), block.end());
    return out;
  }

  // Removes every name from the targets' namespaces.
  AsyncMapResult<None> clear_async();
  void clear() { clear_async().get(); }

  // view["a"] = value pushes; view["a"].get<T>() pulls (one value per target).
  class NameProxy {
   public:
    NameProxy(DirectView& v, std::string name) : v_(v), name_(std::move(name)) {}
    template <class T>
    NameProxy& operator=(const T& value) {
      v_.push({NamedValue(name_, value)});
      return *this;
    }
    template <class T>
    std::vector<T> get() {
      return v_.pull<T>(name_);
    }

   private:
    DirectView& v_;
    std::string name_;
  };
  NameProxy operator[](std::string name) { return NameProxy(*this, std::move(name)); }

 private:
  template <class State>
  std::shared_ptr<State> start_fixed(std::shared_ptr<detail::TaskSource> src, std::string fname) {
    src->targets = targets_;
    src->ntasks = static_cast<std::uint32_t>(targets_.size());
    return start<State>(std::move(src), std::move(fname), targets_.size());
  }
  AsyncMapResult<None> push_async_borrowed(const auto& values) {
    std::vector<const NamedValue*> ptrs;
    for (const auto& v : values) ptrs.push_back(&v);
    return AsyncMapResult<None>(
        start_fixed<detail::ResultState<None>>(detail::make_push_source(ptrs), "push"), true);
  }

  template <class F, class... S>
  AsyncMapResult<detail::result_value_t<F>> run_map(F f, const MapOptions& o, const S&... s) {
    using V = detail::result_value_t<F>;
    auto [src, name] = build_map(f, o, s...);
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

// client[i]: one engine. Like a DirectView, but apply and pull give single values.
class EngineView {
  // Wraps a one-target submission as a single-value AsyncResult (State's value type).
  template <class State>
  auto single(std::shared_ptr<detail::TaskSource> src, const char* fname) {
    using V = typename decltype(std::declval<State&>().values)::value_type::value_type;
    return AsyncResult<V>(dv_.start_fixed<State>(std::move(src), fname));
  }

 public:
  EngineView(std::shared_ptr<detail::ClientCore> core, int id) : dv_(std::move(core), {id}) {}
  int id() const noexcept { return dv_.targets()[0]; }
  DirectView& as_direct_view() noexcept { return dv_; }

  template <class F, class... A>
  AsyncResult<detail::result_value_t<F>> apply_async(F f, A&&... a);
  template <class F, class... A>
  detail::result_value_t<F> apply_sync(F f, A&&... a) {
    return apply_async(f, std::forward<A>(a)...).get();
  }
  template <class F, class... A>
  detail::result_value_t<F> apply(F f, A&&... a) {
    return apply_sync(f, std::forward<A>(a)...);
  }
  template <class F, class... S>
  auto map_async(F f, const S&... s) {
    return dv_.map_async(f, s...);
  }
  template <class F, class... S>
  auto map(F f, const S&... s) {
    return dv_.map(f, s...);
  }
  // Single-engine data movement: errors come back as the engine's RemoteError.
  void push(std::initializer_list<NamedValue> values) {
    std::vector<const NamedValue*> ptrs;
    for (const auto& v : values) ptrs.push_back(&v);
    single<detail::ResultState<None>>(detail::make_push_source(ptrs), "push").get();
  }
  template <class T>
  AsyncResult<T> pull_async(const std::string& name) {
    return single<detail::PullState<T>>(detail::make_pull_source(name, {detail::type_tag<T>()}),
                                        "pull");
  }
  template <class T>
  T pull(const std::string& name) {
    return pull_async<T>(name).get();
  }
  void clear() { single<detail::ResultState<None>>(detail::make_clear_source(), "clear").get(); }
  DirectView::NameProxy operator[](std::string name) { return dv_[std::move(name)]; }

 private:
  DirectView dv_;
};

template <class F, class... A>
AsyncResult<detail::result_value_t<F>> EngineView::apply_async(F f, A&&... a) {
  using V = detail::result_value_t<F>;
  const auto& e = detail::entry_of(f);
  auto src = detail::make_apply_source<F>(e.id, std::forward<A>(a)...);
  return AsyncResult<V>(dv_.start_fixed<detail::ResultState<V>>(std::move(src), e.name));
}

}  // namespace mpiply
