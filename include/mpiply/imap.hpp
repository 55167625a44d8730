#pragma once
// imap: a map over an input range that may be endless. The range is read lazily, chunksize items
// per task, and at most max_outstanding items are on engines at once; results come back through
// an input iterator, in input order or (ordered = false) chunk by chunk as chunks finish. So
//   for (auto y : lview.imap(f, std::views::iota(0L))) { ... break; }
// runs in bounded memory however many inputs there are. A failed item raises its RemoteError
// when its position is dereferenced; incrementing past it goes on with the next item. The input
// is read only as the consumer advances: at most max_outstanding items ahead of it.
#include <cstddef>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <mpiply/async_map_result.hpp>
#include <mpiply/errors.hpp>
#include <mpiply/map_options.hpp>
#include <mpiply/outcome.hpp>
#include <mpiply/wait.hpp>

namespace mpiply {

// Options: MapOptions (map_options.hpp; ImapOptions is the same struct), whose max_outstanding
// bounds the items on engines.
//
// With Outcomes (lview.imap(f, range, mpiply::return_exceptions)), dereferencing gives each
// item's Outcome<T> (value or error) and never raises, as get(mpiply::return_exceptions).
template <class T, bool Outcomes = false>
class ImapResult {
  struct State;  // below; declared first because iterator names it (clang needs it declared)

 public:
  using value_type = std::conditional_t<Outcomes, Outcome<T>, T>;
  // Submits up to n more items as one task; nullopt when the input is exhausted.
  using SubmitNext = std::function<std::optional<AsyncMapResult<T>>(std::size_t n)>;

  ImapResult(SubmitNext submit, std::size_t chunk, std::size_t max_outstanding, bool ordered)
      : st_(std::make_shared<State>()) {
    st_->submit = std::move(submit);
    st_->chunk = chunk;
    st_->max = max_outstanding;
    st_->ordered = ordered;
  }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::conditional_t<Outcomes, Outcome<T>, T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    // The current item's value, raising its RemoteError if it failed; with Outcomes, the item's
    // Outcome (nothing raised).
    const value_type& operator*() const {
      if constexpr (Outcomes)
        return *st_->current;
      else
        return st_->current->value();
    }
    const value_type* operator->() const { return &**this; }
    // The current item as an Outcome (value or error), without raising.
    const Outcome<T>& outcome() const { return *st_->current; }
    iterator& operator++() {
      st_->advance();
      return *this;
    }
    void operator++(int) { st_->advance(); }
    bool operator==(std::default_sentinel_t) const { return !st_ || st_->finished; }

   private:
    friend class ImapResult;
    explicit iterator(std::shared_ptr<State> s) : st_(std::move(s)) {}
    std::shared_ptr<State> st_;
  };
  // Starts reading the input (if not yet started) and waits for the first result.
  iterator begin() {
    if (!st_->started) {
      st_->started = true;
      st_->advance();
    }
    return iterator(st_);
  }
  std::default_sentinel_t end() const { return {}; }

  // Items submitted so far, and those on engines now (at most max_outstanding).
  std::size_t submitted() const { return st_->submitted; }
  std::size_t outstanding() const { return st_->inflight_items; }
  std::size_t max_outstanding() const { return st_->max; }

 private:
  struct State {
    SubmitNext submit;
    std::size_t chunk = 1, max = 1;
    bool ordered = true, started = false, finished = false, exhausted = false;
    std::deque<AsyncMapResult<T>> inflight;
    std::size_t inflight_items = 0, submitted = 0;
    std::vector<Outcome<T>> buf;  // the chunk being yielded
    std::size_t pos = 0;
    std::optional<Outcome<T>> current;

    void refill() {
      while (!exhausted && inflight_items + chunk <= max) {
        auto r = submit(chunk);
        if (!r) {
          exhausted = true;
          submit = nullptr;  // lets go of the input
          break;
        }
        inflight_items += r->size();
        submitted += r->size();
        inflight.push_back(std::move(*r));
      }
    }
    void advance() {
      while (pos == buf.size()) {
        buf.clear();
        pos = 0;
        refill();
        if (inflight.empty()) {
          finished = true;
          current.reset();
          return;
        }
        std::size_t k = 0;
        if (!ordered && inflight.size() > 1)
          k = *wait_any(std::vector<AsyncResultBase>(inflight.begin(), inflight.end()));
        AsyncMapResult<T> r = std::move(inflight[k]);
        inflight.erase(inflight.begin() + static_cast<std::ptrdiff_t>(k));
        buf = r.get(return_exceptions);
        inflight_items -= r.size();
        // No refill here: the input is read only when the consumer asks for the next item
        // (the refill at the top of the loop), as ipyparallel's imap does. An input may be
        // expensive to produce, or a generator the consumer steers.
      }
      current.emplace(std::move(buf[pos++]));
    }
  };
  std::shared_ptr<State> st_;
};

namespace detail {

// view.imap(f, range, options): the body behind LoadBalancedView::imap.
template <bool Outcomes, class View, class F, class R>
auto make_imap(View view, F f, R&& range, const MapOptions& o, std::size_t engines) {
  using V = result_value_t<F>;
  using In = std::ranges::range_value_t<std::remove_cvref_t<R>>;
  const auto& e = entry_of(f);
  if (o.chunksize < 1)
    throw UsageError(fmt::format("imap({}): chunksize is {}, it must be at least 1", e.name,
                                 o.chunksize));
  if (o.max_outstanding < 0 || (o.max_outstanding > 0 && o.max_outstanding < o.chunksize))
    throw UsageError(fmt::format("imap({}): max_outstanding is {}; it must be at least chunksize "
                                 "({}), or 0 for the default of 8 chunks per engine",
                                 e.name, o.max_outstanding, o.chunksize));
  auto chunk = static_cast<std::size_t>(o.chunksize);
  std::size_t max = o.max_outstanding > 0 ? static_cast<std::size_t>(o.max_outstanding)
                                          : 8 * chunk * std::max<std::size_t>(engines, 1);
  // An rvalue range (a view such as std::views::iota, or a container) is owned; an lvalue is
  // borrowed, by pointer, and must outlive the iteration (a pointer rather than
  // std::ranges::ref_view, which clang 14 cannot compile with GCC 12's library).
  using Target = std::conditional_t<std::is_lvalue_reference_v<R>, std::remove_reference_t<R>,
                                    std::remove_cvref_t<R>>;
  using Stored = std::conditional_t<std::is_lvalue_reference_v<R>, Target*, Target>;
  struct Input {
    Stored r;
    std::optional<std::ranges::iterator_t<Target>> it;
    Target& range() {
      if constexpr (std::is_pointer_v<Stored>) {
        return *r;
      } else {
        return r;
      }
    }
  };
  auto in = [&] {
    if constexpr (std::is_pointer_v<Stored>) {
      return std::make_shared<Input>(Input{&range, std::nullopt});
    } else {
      return std::make_shared<Input>(Input{Stored(std::forward<R>(range)), std::nullopt});
    }
  }();
  auto submit = [view, f, in, flags = o.flags](std::size_t n) mutable -> std::optional<AsyncMapResult<V>> {
    if (!in->it) in->it = std::ranges::begin(in->range());
    std::vector<In> items;
    items.reserve(n);
    auto& it = *in->it;
    while (items.size() < n && it != std::ranges::end(in->range())) {
      items.push_back(*it);
      ++it;
    }
    if (items.empty()) return std::nullopt;
    long k = static_cast<long>(items.size());
    return view.map_async(f, std::move(items),
                          MapOptions{.chunksize = k, .ordered = true, .flags = flags});
  };
  return ImapResult<V, Outcomes>(std::move(submit), chunk, max, o.ordered);
}

}  // namespace detail

}  // namespace mpiply
