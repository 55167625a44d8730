#pragma once
// pull_into / gather_into (DirectView, EngineView): a std::vector<T> of bitwise T pulled from
// engines straight into memory the caller owns. An engine rank answers with a small result item
// (kPullPayload, the byte count) and then sends the elements' bytes from its namespace as a
// message of their own (kTagPayload, wire.hpp); rank 0 receives that message into the caller's
// span once the result said how large it is (src/client/client_payload.cpp). No vector is made and the
// hub keeps no copy of the value: get_result of such a task says the value went to the caller.
// A small value, or one from an engine that runs on rank 0 (one rank, client_runs_tasks), comes
// inside the result and is copied into the span here.
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <mpiply/detail/result_state.hpp>
#include <mpiply/detail/type_name.hpp>
#include <mpiply/detail/wire.hpp>
#include <mpiply/errors.hpp>

namespace mpiply::detail {

// Runs f with rank 0's client lock held (src/client/client_payload.cpp).
void with_client_lock(ClientCore& core, void (*f)(void*), void* arg);

// One item per target: item i is target i's vector, written into dest[i] (bytes).
template <class T>
struct PullIntoState : ResultState<None> {
  using ResultState<None>::ResultState;

  std::string name;
  std::vector<int> engines;           // target of each item
  std::vector<std::span<char>> dest;  // per item; empty in a state the hub rebuilt
  std::vector<std::uint8_t> landed;   // per item: its payload message was received into dest
  bool gather = false;

  bool takes_payload() const override { return true; }
  std::span<char> payload_destination(std::size_t item, int engine, std::size_t bytes,
                                      std::string& why) override {
    if (item >= dest.size()) {
      why = gone();
      return {};
    }
    if (bytes != dest[item].size()) {
      why = wrong_size(item, engine, bytes);
      return {};
    }
    landed[item] = 1;
    return dest[item];
  }

  void store_value(std::size_t item, Reader& r) override {
    std::uint8_t which = r.u8();
    if (item >= dest.size()) throw UsageError(gone());
    if (which == kPullPayload) {
      r.u64();
      if (!landed[item]) throw ValueDecodeError("a payload was announced but not received");
      values[item].emplace();
      return;
    }
    std::size_t n = which == 0 ? r.count(sizeof(T)) : 1;  // 1: a lone T (gather, flattened)
    const char* src = r.take(n * sizeof(T));
    if (n * sizeof(T) != dest[item].size())
      throw UsageError(wrong_size(item, engines.at(item), n * sizeof(T)));
    if (n) std::memcpy(dest[item].data(), src, n * sizeof(T));
    values[item].emplace();
  }

  // The caller's call is unwinding while the tasks may still be running: later values go
  // nowhere (they are received and dropped; their items fail).
  static void forget(void* self) { static_cast<PullIntoState*>(self)->dest.clear(); }

 private:
  std::string gone() const {
    return fmt::format(
        "this task was a {} of '{}': its value was written into the caller's memory when it "
        "arrived and the hub keeps no copy of it (its metadata, status and history are kept); "
        "pull '{}' again to read it",
        fname, name, name);
  }
  std::string wrong_size(std::size_t item, int engine, std::size_t bytes) const {
    std::string tn = type_name<T>();
    std::size_t want = dest[item].size() / sizeof(T), got = bytes / sizeof(T);
    if (gather)
      return fmt::format(
          "gather_into('{}'): engine {} holds a block of {} {} ({} bytes), but the span's share "
          "for it is {} elements ({} bytes; a span of n elements is split over the targets as "
          "scatter splits n items); nothing was written into that share. Give a span as long as "
          "the blocks together, or use gather<{}>",
          name, engine, got, tn, bytes, want, dest[item].size(), tn);
    return fmt::format(
        "pull_into('{}'): engine {} holds {} {} ({} bytes), but the span given for it has {} "
        "elements ({} bytes); nothing was written into it. Give a span of exactly the engine's "
        "size, or use pull<std::vector<{}>>",
        name, engine, got, tn, bytes, want, dest[item].size(), tn);
  }
};

}  // namespace mpiply::detail
