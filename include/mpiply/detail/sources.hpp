#pragma once
// Task sources: how each kind of submission turns into messages. An apply is encoded once at
// submission (its arguments may be temporaries); a map keeps its inputs, converted to the
// parameter types, and encodes each chunk when the scheduler dispatches it.
#include <cstring>
#include <initializer_list>
#include <ranges>
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
// Writes how the engine runs a call (TaskHeader::run, time_limit_ms) into an encoded message's
// header: the task's flags, else the run's settings. Throws UsageError for a negative limit.
void stamp_run(char* msg, const TaskFlags& flags);

// A team member's message (wire.hpp, kRunTeam): msg with a TeamBlock and the members' engine
// ids inserted after its header, run bits set to a team member's (never isolated), built in out.
std::span<const char> with_team(std::span<const char> msg, std::span<const int> team,
                                std::uint32_t rank, Bytes& out);

// A message encoded once and sent to one or more engines. Its header's msg id is stamped per task:
// in place when there is one task, in a scratch copy when several sends share the message.
struct FixedSource : TaskSource {
  Bytes msg;
  std::vector<Segment> segs;
  std::vector<std::shared_ptr<const void>> keep;  // owners of the segments' memory
  std::size_t item_begin(std::uint32_t task) const override { return task; }
  std::uint32_t item_count(std::uint32_t) const override { return 1; }
  std::span<const char> encode(std::uint32_t task, Bytes& scratch,
                               std::vector<Segment>& segments) override;
  std::span<const char> sole_message() const override {
    if (ntasks != 1 || !segs.empty() || !keep.empty()) return {};
    return {msg.data(), msg.size()};
  }
};

template <class F, class... A>
std::shared_ptr<FixedSource> make_apply_source(std::uint64_t fn_id, A&&... a) {
  auto src = std::make_shared<FixedSource>();
  src->fn_id = fn_id;
  src->has_references = (is_reference_arg_v<A> || ...) || (is_reference_list_v<A> || ...);
  Writer w(src->msg);
  write_header(w, Kind::call, 1, fn_id);
  encode_call<F>(w, std::forward<A>(a)...);
  return src;
}

// One map argument, converted at submission to the parameter type P (the map is encoded chunk
// by chunk later, and the caller may change or drop its range meanwhile): the items of any input
// range, sized or not (a views pipeline is walked once), an rvalue std::vector<P> moved in, a
// Reference passed unchanged to every call, or a sequence of References resolved per item.
template <class P>
class MapInput {
 public:
  using D = std::remove_cvref_t<P>;

  template <class S>
    requires(!std::is_same_v<std::remove_cvref_t<S>, MapInput>)
  MapInput(S&& s) {  // NOLINT: implicit, so map(f, xs) converts each sequence
    using X = std::remove_cvref_t<S>;
    if constexpr (is_reference_arg_v<X>) {
      check_reference<typename X::value_type>();
      names_.push_back(s.name());
      broadcast_ = true;
    } else {
      static_assert(std::ranges::input_range<S&>,
                    "mpiply: each map argument must be a sequence (any input range: a container, "
                    "a views pipeline) or a Reference");
      using E = std::remove_cvref_t<std::ranges::range_reference_t<S&>>;
      if constexpr (is_reference_arg_v<E>) {
        check_reference<typename E::value_type>();
        if constexpr (std::ranges::sized_range<S&>) names_.reserve(std::ranges::size(s));
        for (auto&& r : s) names_.push_back(r.name());
      } else if constexpr (std::is_same_v<X, std::vector<D>> && !std::is_lvalue_reference_v<S>) {
        items_ = std::move(s);
      } else {
        static_assert(std::is_convertible_v<std::ranges::range_reference_t<S&>, D>,
                      "mpiply: the items of a map sequence do not convert to the registered "
                      "function's parameter type");
        if constexpr (std::ranges::sized_range<S&>)
          reserve_huge(items_, static_cast<std::size_t>(std::ranges::size(s)));
        for (auto&& x : s) items_.push_back(static_cast<D>(x));
      }
    }
  }
  MapInput(std::initializer_list<D> items) : items_(items) {}

  bool is_sequence() const { return !broadcast_; }
  bool has_references() const { return !names_.empty(); }
  std::size_t length() const { return names_.empty() ? items_.size() : names_.size(); }
  void write(Writer& w, std::size_t i) const {
    if (names_.empty()) {
      encode_arg<P>(w, items_[i]);
    } else {
      w.u8(static_cast<std::uint8_t>(ArgTag::reference));
      w.str(names_[broadcast_ ? 0 : i]);
    }
  }

 private:
  template <class T>
  static constexpr void check_reference() {
    static_assert(std::is_void_v<T> || std::is_same_v<T, D>,
                  "mpiply: Reference<T> passed for a parameter of another type; use Reference<> "
                  "or Reference<parameter type>");
  }
  std::vector<D> items_;
  std::vector<std::string> names_;  // References: one name per item, or one for all
  bool broadcast_ = false;
};

// A map: items [0, n) cut into tasks of up to `chunk` items. Load-balanced maps cut the whole
// range; a DirectView map first partitions it into one block per target, then cuts each block.
template <class F, class Params = typename fn_traits<F>::params>
struct MapSource;
template <class F, class... P>
struct MapSource<F, std::tuple<P...>> : TaskSource {
  std::tuple<MapInput<P>...> args;
  std::size_t n = 0;
  std::size_t chunk = 1;
  std::vector<std::pair<std::size_t, std::uint32_t>> ranges;  // only for partitioned maps

  explicit MapSource(MapInput<P>... a) : args(std::move(a)...) {
    has_references = std::apply([](const auto&... in) { return (in.has_references() || ...); }, args);
  }

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
    stamp_run(scratch.data(), flags);
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
