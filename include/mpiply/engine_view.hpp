#pragma once
// EngineView (client[i]): one engine. Like a DirectView on that engine, but apply, pull and the
// name proxy give single values, and errors come back as the engine's own RemoteError.
#include <array>
#include <initializer_list>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <mpiply/direct_view.hpp>

namespace mpiply {

class EngineView : public detail::MapMethods<EngineView> {
  // Defined first: members below deduce their return types from it.
  // Wraps a one-target submission as a single-value AsyncResult (State's value type).
  template <class State>
  auto single(std::shared_ptr<detail::TaskSource> src, const char* fname) {
    using V = typename decltype(std::declval<State&>().values)::value_type::value_type;
    return AsyncResult<V>(dv_.start_fixed<State>(std::move(src), fname));
  }

 public:
  int id() const noexcept { return dv_.targets()[0]; }
  const std::vector<int>& targets() const noexcept { return dv_.targets(); }
  std::size_t size() const noexcept { return 1; }
  // The same engine as a DirectView (results one per target, i.e. in a vector of one).
  DirectView as_direct_view() const { return dv_; }
  // The view's flags (task_flags.hpp), as on every view.
  const TaskFlags& flags() const noexcept { return dv_.flags(); }
  void set_flags(const TaskFlags& f) { dv_.set_flags(f); }
  [[nodiscard]] detail::ViewBase::FlagsGuard temp_flags(const TaskFlags& f) {
    return dv_.temp_flags(f);
  }
  // The hub on this view, as on every view (view_base.hpp).
  std::vector<MsgId> history() const { return dv_.history(); }
  bool wait(std::optional<Seconds> timeout = std::nullopt) const { return dv_.wait(timeout); }
  std::size_t abort() const { return dv_.abort(); }
  std::size_t abort(const Jobs& jobs) const { return dv_.abort(jobs); }
  AsyncResultBase get_result(const Jobs& jobs) const { return dv_.get_result(jobs); }
  template <class T>
  AsyncMapResult<T> get_result(const Jobs& jobs) const {
    return dv_.template get_result<T>(jobs);
  }
  EngineView with_flags(const TaskFlags& f) const {
    EngineView v = *this;
    v.set_flags(f);
    return v;
  }

  template <class F, class... A>
  AsyncResult<detail::result_value_t<F>> apply_async(F f, A&&... a) {
    using V = detail::result_value_t<F>;
    const auto& e = detail::entry_of(f);
    // A collective function only when this engine is the whole team.
    detail::check_collective_use(*dv_.core_, e, detail::CollectiveUse::engine_apply,
                                 dv_.targets_);
    auto src = detail::make_apply_source<F>(e.id, std::forward<A>(a)...);
    return AsyncResult<V>(dv_.start_fixed<detail::ResultState<V>>(std::move(src), e.name));
  }
  template <class F, class... A>
  detail::result_value_t<F> apply_sync(F f, A&&... a) {
    return apply_async(f, std::forward<A>(a)...).get();
  }
  template <class F, class... A>
  detail::result_value_t<F> apply(F f, A&&... a) {
    return apply_sync(f, std::forward<A>(a)...);
  }

  // map_async / map_sync / map with MapOptions, inherited from MapMethods: every item runs on
  // this engine.

  void push(std::initializer_list<NamedValue> values) { push_borrowed(values).get(); }
  void push(const std::vector<NamedValue>& values) { push_borrowed(values).get(); }
  // Takes the values (copying arrays they borrow), as DirectView::push_async.
  AsyncResult<None> push_async(std::vector<NamedValue> values);

  template <class T>
  AsyncResult<T> pull_async(const std::string& name) {
    return single<detail::PullState<T>>(detail::make_pull_source(name, {detail::type_tag<T>()}),
                                        "pull");
  }
  template <class T>
  T pull(const std::string& name) {
    return pull_async<T>(name).get();
  }
  // auto [a, s] = client[0].pull<int, std::string>({"a", "s"});
  template <class... T>
    requires(sizeof...(T) >= 2)
  std::tuple<T...> pull(const std::array<std::string, sizeof...(T)>& names) {
    detail::check_pull_names(names.data(), names.size());
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      auto pending = std::make_tuple(pull_async<T>(names[I])...);
      return std::tuple<T...>(std::get<I>(pending).get()...);
    }(std::index_sequence_for<T...>{});
  }

  // This engine's std::vector<T> (T bitwise) straight into out, which must have its size
  // (DirectView::pull_into); on a wrong size or type out is left untouched and this throws.
  template <class T>
  void pull_into(const std::string& name, std::span<T> out) {
    dv_.pull_into(name, std::vector<std::span<T>>{out});
  }
  template <class T, class A>
  void pull_into(const std::string& name, std::vector<T, A>& out) {
    pull_into(name, std::span<T>(out));
  }

  AsyncResult<None> clear_async() {
    return single<detail::ResultState<None>>(detail::make_clear_source(), "clear");
  }
  void clear() { clear_async().get(); }

  NameProxy<EngineView> operator[](std::string name) const {
    return NameProxy<EngineView>(*this, std::move(name));
  }

 private:
  friend class Client;
  template <class, std::size_t, class>
  friend class detail::MapArity;

  EngineView(std::shared_ptr<detail::ClientCore> core, int id) : dv_(std::move(core), {id}) {}

  AsyncResult<None> push_borrowed(const auto& values) {
    std::vector<const NamedValue*> ptrs;
    for (const auto& v : values) ptrs.push_back(&v);
    return single<detail::ResultState<None>>(detail::make_push_source(ptrs), "push");
  }
  template <class F, class... In>
  AsyncMapResult<detail::result_value_t<F>> run_map(F f, const MapOptions& o, In&&... in) {
    return dv_.run_map(f, o, std::move(in)...);
  }

  DirectView dv_;
};

}  // namespace mpiply
