#pragma once
// AsyncMapResult: an AsyncResult over many items (a map, or an apply on several engines). It can
// be iterated while results are still arriving: in input order when ordered, in arrival order
// otherwise. progress() and size() count items, not messages.
#include <iterator>
#include <map>
#include <memory>
#include <vector>

#include <mpiply/async_result.hpp>

namespace mpiply {

template <class T>
class AsyncMapResult : public AsyncResultBase {
 public:
  using value_type = T;
  AsyncMapResult(std::shared_ptr<detail::ResultState<T>> st, bool ordered)
      : AsyncResultBase(st), typed_(std::move(st)), ordered_(ordered) {}

  bool ordered() const noexcept { return ordered_; }

  // All values in input order. If items raised: CompositeError holding each item's RemoteError
  // and index; the values that succeeded stay available through iteration up to the failure,
  // value(i) and values_or_empty().
  std::vector<T> get(std::optional<Seconds> timeout = std::nullopt) const {
    wait_or_throw(timeout, true);
    std::vector<T> out;
    out.reserve(typed_->values.size());
    for (auto& v : typed_->values) out.push_back(*v);
    return out;
  }
  // get(mpiply::return_exceptions): every item's value or its error, in input order; nothing
  // thrown for failed items (TimeoutError when the timeout passes first).
  std::vector<Outcome<T>> get(ReturnExceptions, std::optional<Seconds> timeout = std::nullopt) const {
    auto errs = item_errors(timeout);
    std::vector<Outcome<T>> out;
    out.reserve(errs.size());
    for (std::size_t i = 0; i < errs.size(); ++i) {
      if (errs[i])
        out.emplace_back(std::move(*errs[i]));
      else
        out.emplace_back(*typed_->values[i]);
    }
    return out;
  }
  // Calls f(result) once every item finished (see AsyncResult::add_done_callback for which
  // thread runs it: never under the client's lock; a throwing f is reported, not propagated).
  template <class F>
  void add_done_callback(F f) const {
    on_done([self = *this, f = std::move(f)]() mutable { f(self); });
  }
  // A Future of f(values) (all values in input order); if an item failed, f is skipped and the
  // Future's get() rethrows the error (CompositeError for several).
  template <class F>
  Future<detail::then_value_t<F, const std::vector<T>&>> then(F f) const {
    using V = detail::then_value_t<F, const std::vector<T>&>;
    auto next = std::make_shared<detail::FutureState<V>>();
    AsyncMapResult self = *this;
    next->upstream_wait = [self](std::optional<Seconds> t) { return self.wait(t); };
    on_done([self, next, f = std::move(f)]() mutable {
      next->complete_with([&]() -> decltype(auto) {
        std::vector<T> v = self.get();
        return f(v);
      });
    });
    return Future<V>(next);
  }

  // The value of item i (input order), waiting for it; raises its error (RemoteError or the
  // subclass it is) if it failed.
  const T& value(std::size_t i) const {
    wait_item(i);
    return *typed_->values[i];
  }
  // After completion: every item's value, empty where the item failed.
  std::vector<std::optional<T>> values_or_empty(std::optional<Seconds> timeout = std::nullopt) const {
    if (!wait(timeout))
      throw TimeoutError("values_or_empty: the map is not finished within the timeout");
    return {typed_->values.begin(), typed_->values.end()};
  }
  // Engine id -> value, for one task per engine (as DirectView.apply gives).
  std::map<int, T> get_dict(std::optional<Seconds> timeout = std::nullopt) const {
    wait_or_throw(timeout, true);
    auto engines = item_engines_for_dict();
    std::map<int, T> out;
    for (std::size_t i = 0; i < engines.size(); ++i) out.emplace(engines[i], *typed_->values[i]);
    return out;
  }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = const T&;
    using pointer = const T*;
    iterator() = default;
    iterator(const AsyncMapResult* r, std::size_t pos) : r_(r), pos_(pos) {}
    // Waits for the next result; raises its RemoteError if that item failed.
    const T& operator*() const {
      std::size_t item = r_->ordered_ ? pos_ : r_->wait_arrival(pos_);
      return r_->value(item);
    }
    const T* operator->() const { return &**this; }
    iterator& operator++() {
      ++pos_;
      return *this;
    }
    void operator++(int) { ++pos_; }
    bool operator==(const iterator& o) const { return pos_ == o.pos_; }
    // The input index of the item this position yields (waits for it to arrive if unordered).
    std::size_t index() const { return r_->ordered_ ? pos_ : r_->wait_arrival(pos_); }

   private:
    const AsyncMapResult* r_ = nullptr;
    std::size_t pos_ = 0;
  };
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, size()); }

 private:
  std::shared_ptr<detail::ResultState<T>> typed_;
  bool ordered_;
};

}  // namespace mpiply
