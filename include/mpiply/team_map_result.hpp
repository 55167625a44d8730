#pragma once
// TeamMapResult: the handle of LoadBalancedView::map_team (docs/resources.md "Teams"). Each item
// ran as one team task on k engines; an item's value is its k members' values in team-rank
// order (std::vector<T>), or team rank 0's value alone (T) for map_team_root. An item fails as
// soon as one of its members failed, without waiting for the others: a member left inside a
// collective that the failed member never reached cannot be freed by mpiply.
//
// Waiting, abort(), elapsed() and the timestamps are AsyncResultBase's. metadata() and
// progress() count members: item i's member of team rank r is entry i * team_size() + r.
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <mpiply/async_result.hpp>
#include <mpiply/detail/team_source.hpp>

namespace mpiply {

template <class T, bool RootOnly = false>
class TeamMapResult : public AsyncResultBase {
 public:
  using member_type = T;
  using value_type = std::conditional_t<RootOnly, T, std::vector<T>>;

  TeamMapResult(std::shared_ptr<detail::ResultState<T>> st, std::size_t items, unsigned k)
      : AsyncResultBase(st), typed_(std::move(st)), items_(items), k_(k) {}

  // Items (teams), not members.
  std::size_t size() const noexcept { return items_; }
  unsigned team_size() const noexcept { return k_; }

  // Waits until every item has its value or has failed (a failed member decides its item).
  // False when the timeout passed first.
  bool wait(std::optional<Seconds> timeout = std::nullopt) const {
    if (items_ == 0) return true;
    std::optional<Deadline> d;
    if (timeout) d = deadline_after(*timeout);
    return detail::core_wait(*st_->core, &all_decided, this, d);
  }
  bool ready() const {
    std::lock_guard lk(detail::core_mutex(*st_->core));
    return all_decided(this);
  }

  // Every item's value in item order. If items failed: CompositeError with one entry per
  // failed item (its index), the RemoteError of its lowest-rank failed member, whose message
  // names the member ("team member of rank r of k (engine e) raised: ...").
  std::vector<value_type> get(std::optional<Seconds> timeout = std::nullopt) const {
    auto errs = decided_errors(timeout, "get");
    std::vector<CompositeError::Item> failed;
    for (std::size_t i = 0; i < items_; ++i)
      if (errs[i]) failed.push_back({i, std::move(*errs[i])});
    if (!failed.empty()) throw CompositeError(std::move(failed), items_);
    std::vector<value_type> out;
    out.reserve(items_);
    std::lock_guard lk(detail::core_mutex(*st_->core));
    for (std::size_t i = 0; i < items_; ++i) out.push_back(item_value(i));
    return out;
  }
  // get(mpiply::return_exceptions): each item's value or its error, nothing thrown for failed
  // items (TimeoutError when the timeout passes first).
  std::vector<Outcome<value_type>> get(ReturnExceptions,
                                       std::optional<Seconds> timeout = std::nullopt) const {
    auto errs = decided_errors(timeout, "get(return_exceptions)");
    std::vector<Outcome<value_type>> out;
    out.reserve(items_);
    std::lock_guard lk(detail::core_mutex(*st_->core));
    for (std::size_t i = 0; i < items_; ++i) {
      if (errs[i])
        out.emplace_back(std::move(*errs[i]));
      else
        out.emplace_back(item_value(i));
    }
    return out;
  }
  // Item i's value, waiting for it; raises its first failed member's error.
  value_type value(std::size_t i) const {
    if (i >= items_)
      throw UsageError(fmt::format("item {} requested from a team map of {} items", i, items_));
    struct Ctx {
      const TeamMapResult* self;
      std::size_t i;
    } ctx{this, i};
    detail::core_wait(
        *st_->core,
        [](const void* c) {
          auto* x = static_cast<const Ctx*>(c);
          return x->self->decided(x->i);
        },
        &ctx, std::nullopt);
    std::lock_guard lk(detail::core_mutex(*st_->core));
    if (auto e = member_error(i)) e->raise();
    return item_value(i);
  }
  // Calls f(result) once every item is decided, on the thread AsyncResult::add_done_callback
  // describes. (Registered on the members: it runs when the last member finished.)
  template <class F>
  void add_done_callback(F f) const {
    on_done([self = *this, f = std::move(f)]() mutable { f(self); });
  }

  // Iterates items in item order, waiting for each (raises a failed item's error).
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = TeamMapResult::value_type;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const TeamMapResult* r, std::size_t pos) : r_(r), pos_(pos) {}
    value_type operator*() const { return r_->value(pos_); }
    iterator& operator++() {
      ++pos_;
      return *this;
    }
    void operator++(int) { ++pos_; }
    bool operator==(const iterator& o) const { return pos_ == o.pos_; }

   private:
    const TeamMapResult* r_ = nullptr;
    std::size_t pos_ = 0;
  };
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, items_); }

 private:
  // Lock held by the callers.
  bool decided(std::size_t i) const {
    bool all = true;
    for (std::size_t r = 0; r < k_; ++r) {
      auto s = typed_->item_state[i * k_ + r];
      if (s == detail::ItemState::error) return true;
      if (s == detail::ItemState::pending) all = false;
    }
    return all;
  }
  static bool all_decided(const void* ctx) {
    auto* self = static_cast<const TeamMapResult*>(ctx);
    if (self->typed_->items_done == self->typed_->nitems) return true;
    for (std::size_t i = 0; i < self->items_; ++i)
      if (!self->decided(i)) return false;
    return true;
  }
  // The error of item i's lowest-rank failed member, if one failed.
  std::optional<RemoteError> member_error(std::size_t i) const {
    const CompositeError::Item* best = nullptr;
    for (const auto& e : typed_->errors)
      if (e.index / k_ == i && (!best || e.index < best->index)) best = &e;
    if (!best) return std::nullopt;
    return best->error;
  }
  std::vector<std::optional<RemoteError>> decided_errors(std::optional<Seconds> timeout,
                                                         const char* what) const {
    if (!wait(timeout))
      throw TimeoutError(fmt::format("{}: the team map of {} ({} items) is not finished within "
                                     "{:.3f} s; nothing is lost, wait again",
                                     what, st_->fname, items_, timeout->count()));
    std::lock_guard lk(detail::core_mutex(*st_->core));
    take_locked();
    std::vector<std::optional<RemoteError>> out(items_);
    for (std::size_t i = 0; i < items_; ++i) out[i] = member_error(i);
    return out;
  }
  value_type item_value(std::size_t i) const {
    if constexpr (RootOnly) {
      return *typed_->values[i * k_];
    } else {
      std::vector<T> v;
      v.reserve(k_);
      for (std::size_t r = 0; r < k_; ++r) v.push_back(*typed_->values[i * k_ + r]);
      return v;
    }
  }

  std::shared_ptr<detail::ResultState<T>> typed_;
  std::size_t items_;
  unsigned k_;
};

}  // namespace mpiply
