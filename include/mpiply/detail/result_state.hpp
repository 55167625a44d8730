#pragma once
// The state behind an AsyncResult: one slot per item, filled by the scheduler as results arrive
// (with the client lock held). The untyped part lives in src/client/result_state.cpp; the typed part only
// knows how to decode and keep a value.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <typeinfo>
#include <vector>

#include <boost/container/small_vector.hpp>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/core.hpp>
#include <mpiply/errors.hpp>

namespace mpiply::detail {

enum class ItemState : std::uint8_t { pending = 0, ok = 1, error = 2 };

// Per-item arrays of a result: one item (every apply) lives inside the state, so a submission
// allocates no array for it (three fewer allocations an apply).
template <class T>
using ItemArray = boost::container::small_vector<T, 1>;

class ResultStateBase;
// Makes an empty state of one concrete class (the hub rebuilds results with the class the
// submission used, so a pull's values decode as a pull's).
using StateFactory = std::shared_ptr<ResultStateBase> (*)(std::shared_ptr<ClientCore> core,
                                                          std::string fname, std::size_t nitems);
template <class State>
std::shared_ptr<ResultStateBase> make_state(std::shared_ptr<ClientCore> core, std::string fname,
                                            std::size_t nitems) {
  return std::make_shared<State>(std::move(core), std::move(fname), nitems);
}

class ResultStateBase {
 public:
  ResultStateBase(std::shared_ptr<ClientCore> core, std::string fname, std::size_t nitems);
  virtual ~ResultStateBase();
  // Decodes item's value from r (lock held). May throw ValueDecodeError.
  virtual void store_value(std::size_t item, Reader& r) = 0;
  // A result whose value follows as a payload message (pull_into, pull_into.hpp): the memory
  // item's payload of `bytes` from `engine` goes into, or an empty span with why set (the payload
  // is then dropped and the task fails with why). Lock held.
  virtual bool takes_payload() const { return false; }
  virtual std::span<char> payload_destination(std::size_t /*item*/, int /*engine*/,
                                              std::size_t /*bytes*/, std::string& /*why*/) {
    return {};
  }

  // Called by the scheduler, lock held.
  void item_ok(std::size_t item);
  void item_failed(std::size_t item, RemoteError err);

  std::shared_ptr<ClientCore> core;
  std::string fname;
  MsgId first_msg = 0;
  std::uint32_t ntasks = 0;
  std::int64_t submitted_steady_ns = 0;  // steady clock at submission, for elapsed()
  std::size_t nitems;
  std::size_t items_done = 0;
  ItemArray<ItemState> item_state;
  ItemArray<std::uint32_t> arrival;  // item indices in arrival order
  std::vector<CompositeError::Item> errors;

  // Done callbacks (src/client/callbacks.cpp). Added and taken under the client lock; when the last
  // item finishes, on_complete_locked hands them to the scheduler's queue, which runs them after
  // the lock is released (never under it). done_seq orders results by completion (as_completed).
  std::vector<std::function<void()>> done_callbacks;
  std::uint64_t done_seq = 0;
  void on_complete_locked();
  // The values' C++ type, and how to make another state of this class (set at submission).
  const std::type_info* value_type = nullptr;
  StateFactory factory = nullptr;
  // A state the hub built over chosen tasks (get_result, resubmit of some) lists their msg ids
  // and each task's first item here; a submission's own state leaves both empty (its tasks are
  // first_msg .. first_msg + ntasks - 1, items as the records say).
  std::vector<MsgId> msg_list;
  // A submission's own handle owns its results: once it has fetched them (get), the client's
  // results() leaves them out, as ipyparallel's Client.results pops what an AsyncResult took.
  // The hub's handles (get_result) read the kept values without taking them.
  bool owner = true;
  bool taken = false;
  // One task with one value (an AsyncResult, not a map over items): display_outputs prints its
  // text without the "[stdout:N]" prefix, as ipyparallel does for a single result.
  bool single = false;
  std::vector<std::size_t> item_base;
  MsgId msg(std::uint32_t k) const { return msg_list.empty() ? first_msg + k : msg_list[k]; }
  std::size_t first_item_of(std::uint32_t k, std::uint64_t record_first_item) const {
    return item_base.empty() ? record_first_item : item_base[k];
  }
};

template <class V>
class ResultState : public ResultStateBase {
 public:
  ResultState(std::shared_ptr<ClientCore> c, std::string f, std::size_t n)
      : ResultStateBase(std::move(c), std::move(f), n) {
    value_type = &typeid(V);
    reserve_huge(values, n);
    values.resize(n);
  }
  void store_value(std::size_t item, Reader& r) override {
    values[item].emplace(Codec<V>::decode(r));
  }
  ItemArray<std::optional<V>> values;
};

}  // namespace mpiply::detail
