#pragma once
// Waiting on several results at once, whatever their value types: wait_any, wait_all and
// as_completed take the results as AsyncResultBase (an AsyncResult<int> and an
// AsyncMapResult<std::string> go in one braced list) and answer with positions in that list.
//   auto i = mpiply::wait_any({a, b});          // a position, or nullopt on timeout
//   for (std::size_t i : mpiply::as_completed({a, b, c})) ...   // positions as each finishes
#include <cstddef>
#include <iterator>
#include <optional>
#include <vector>

#include <mpiply/async_result.hpp>

namespace mpiply {

// The position of a finished result (the earliest to finish when several have), or nullopt if
// the timeout passed first. UsageError for an empty list.
std::optional<std::size_t> wait_any(const std::vector<AsyncResultBase>& results,
                                    std::optional<Seconds> timeout = std::nullopt);
// True once every result finished; false if the timeout passed first.
bool wait_all(const std::vector<AsyncResultBase>& results,
              std::optional<Seconds> timeout = std::nullopt);

// Positions of the results in the order they finish (those already finished first, in the
// order they finished). Each step waits without a timeout; use wait_any for a bounded wait.
class AsCompleted {
 public:
  explicit AsCompleted(std::vector<AsyncResultBase> results);

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::size_t;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    std::size_t operator*() const { return cur_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    bool operator==(std::default_sentinel_t) const { return !ac_ || done_; }

   private:
    friend class AsCompleted;
    explicit iterator(AsCompleted* ac) : ac_(ac) { advance(); }
    void advance();
    AsCompleted* ac_ = nullptr;
    std::size_t cur_ = 0;
    bool done_ = false;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() const { return {}; }
  // The next position, waiting for it; nullopt once every result was yielded. TimeoutError if
  // the timeout passes first (nothing is lost: call again).
  std::optional<std::size_t> next(std::optional<Seconds> timeout = std::nullopt);

 private:
  std::vector<AsyncResultBase> results_;
  std::vector<bool> taken_;
  std::size_t left_;
};

inline AsCompleted as_completed(std::vector<AsyncResultBase> results) {
  return AsCompleted(std::move(results));
}

}  // namespace mpiply
