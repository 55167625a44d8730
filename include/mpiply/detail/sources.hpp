#pragma once
// Task sources: how each kind of submission turns into messages. An apply is encoded once at
// submission (its arguments may be temporaries); a map keeps its inputs and encodes each chunk
// when the scheduler dispatches it.
#include <cstring>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/invoke.hpp>
#include <mpiply/detail/wire.hpp>

namespace mpiply::detail {

void write_header(Writer& w, Kind kind, std::uint32_t nitems, std::uint64_t fn_id);

// A message encoded once and sent to one or more engines. Its header's msg id is stamped per task:
// in place when there is one task, in a scratch copy when several sends share the message.
struct FixedSource : TaskSource {
  Bytes msg;
  std::vector<Segment> segs;
  std::size_t item_begin(std::uint32_t task) const override { return task; }
  std::uint32_t item_count(std::uint32_t) const override { return 1; }
  std::span<const char> encode(std::uint32_t task, Bytes& scratch,
                               std::vector<Segment>& segments) override;
};

template <class F, class... A>
std::shared_ptr<FixedSource> make_apply_source(std::uint64_t fn_id, A&&... a) {
  auto src = std::make_shared<FixedSource>();
  src->fn_id = fn_id;
  Writer w(src->msg);
  write_header(w, Kind::call, 1, fn_id);
  encode_call<F>(w, std::forward<A>(a)...);
  return src;
}

// Per map argument: the input sequence converted to the parameter type, or a Reference name
// passed unchanged to every call.
template <class P, class A>
struct MapArg {
  using D = std::remove_cvref_t<P>;
  std::vector<D> items;
  explicit MapArg(const A& seq) {
    reserve_huge(items, std::size(seq));
    for (auto&& x : seq) items.push_back(static_cast<D>(x));
  }
  std::size_t length() const { return items.size(); }
  void write(Writer& w, std::size_t i) const { encode_arg<P>(w, items[i]); }
  static constexpr bool is_sequence = true;
};
template <class P, class T>
struct MapArg<P, Reference<T>> {
  Reference<T> ref;
  explicit MapArg(const Reference<T>& r) : ref(r) {}
  std::size_t length() const { return 0; }
  void write(Writer& w, std::size_t) const { encode_arg<P>(w, ref); }
  static constexpr bool is_sequence = false;
};

// A map: items [0, n) cut into tasks of up to `chunk` items. Load-balanced maps cut the whole
// range; a DirectView map first partitions it into one block per target, then cuts each block.
template <class F, class... Args>
struct MapSource : TaskSource {
  using Params = typename fn_traits<F>::params;
  std::tuple<Args...> args;
  std::size_t n = 0;
  std::size_t chunk = 1;
  std::vector<std::pair<std::size_t, std::uint32_t>> ranges;  // only for partitioned maps

  explicit MapSource(Args... a) : args(std::move(a)...) {}

  std::size_t item_begin(std::uint32_t task) const override {
    return ranges.empty() ? std::size_t(task) * chunk : ranges[task].first;
  }
  std::uint32_t item_count(std::uint32_t task) const override {
    if (!ranges.empty()) return ranges[task].second;
    std::size_t b = std::size_t(task) * chunk;
    return static_cast<std::uint32_t>(std::min(chunk, n - b));
  }
  std::span<const char> encode(std::uint32_t task, Bytes& scratch,
                               std::vector<Segment>&) override {
    scratch.clear();
    Writer w(scratch);
    std::size_t b = item_begin(task);
    std::uint32_t k = item_count(task);
    write_header(w, Kind::call, k, fn_id);
    w.patch<std::uint64_t>(offsetof(TaskHeader, msg_id), first_msg + task);
    for (std::size_t i = b; i < b + k; ++i) {
      std::size_t at = w.pos();
      w.u32(0);
      std::apply([&](const auto&... a) { (a.write(w, i), ...); }, args);
      w.patch<std::uint32_t>(at, static_cast<std::uint32_t>(w.pos() - at - 4));
    }
    return {scratch.data(), scratch.size()};
  }
};

// Splits n items into `parts` contiguous blocks whose sizes differ by at most one, the larger
// blocks first (ipyparallel's partitioning). Returns (begin, size) per part.
std::vector<std::pair<std::size_t, std::size_t>> partition(std::size_t n, std::size_t parts);

}  // namespace mpiply::detail
