#pragma once
// The messages and result states of namespace traffic (push, pull, scatter, gather, clear).
// Encoders live in src/wire/sources.cpp; the typed states decode what engines send back.
#include <memory>
#include <string>
#include <vector>

#include <mpiply/detail/result_state.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/named_value.hpp>

namespace mpiply::detail {

// Pulled values carry the index of the requested type that matched; a plain pull asks for one.
template <class T>
struct PullState : ResultState<T> {
  using ResultState<T>::ResultState;
  void store_value(std::size_t item, Reader& r) override {
    if (r.u8() != 0) throw ValueDecodeError("pull: engine answered with another type");
    this->values[item].emplace(Codec<T>::decode(r));
  }
};

// A gather: one item per target, each an engine's vector<T> (a scattered block) or a lone T
// (flattened). The blocks are kept apart until the last arrives, then joined in target order
// into values[0], the one value an AsyncResult<vector<T>> hands out.
template <class T>
struct GatherState : ResultState<std::vector<T>> {
  using ResultState<std::vector<T>>::ResultState;
  void store_value(std::size_t item, Reader& r) override {
    if (blocks.empty()) blocks.resize(this->nitems);
    if (r.u8() == 0)
      blocks[item].emplace(Codec<std::vector<T>>::decode(r));
    else
      blocks[item].emplace(std::vector<T>{Codec<T>::decode(r)});
    if (++stored < this->nitems) return;
    if (blocks.size() == 1) {  // one target: its block is the result, no second copy
      this->values[0].emplace(std::move(*blocks[0]));
      blocks.clear();
      return;
    }
    std::size_t total = 0;
    for (auto& b : blocks) total += b->size();
    std::vector<T> all;
    reserve_huge(all, total);
    for (auto& b : blocks) all.insert(all.end(), std::make_move_iterator(b->begin()),
                                      std::make_move_iterator(b->end()));
    blocks.clear();
    this->values[0].emplace(std::move(all));
  }
  std::vector<std::optional<std::vector<T>>> blocks;
  std::size_t stored = 0;
};

// One push message per target (scatter): each target gets its own entry.
struct PerTargetSource : TaskSource {
  std::vector<Bytes> msgs;
  std::vector<std::vector<Segment>> segs;
  std::vector<std::shared_ptr<const void>> keep;  // owners of the segments' memory
  std::size_t item_begin(std::uint32_t task) const override { return task; }
  std::uint32_t item_count(std::uint32_t) const override { return 1; }
  std::span<const char> encode(std::uint32_t task, Bytes& scratch,
                               std::vector<Segment>& segments) override;
};

// values are written into the message; their large arrays stay where they are and are sent as
// segments, so the values' memory must live until the push completes (the source keeps what
// they own).
std::shared_ptr<FixedSource> make_push_source(const std::vector<const NamedValue*>& values);
// into_elem_size: a pull_into of std::vector<T> (type_tags[0]) with sizeof(T) == into_elem_size
// (pull_into.hpp); 0 for a plain pull.
std::shared_ptr<FixedSource> make_pull_source(const std::string& name,
                                              const std::vector<std::string>& type_tags,
                                              std::uint32_t into_elem_size = 0);
std::shared_ptr<FixedSource> make_clear_source();
// parts[i] goes to the i-th target.
std::shared_ptr<PerTargetSource> make_scatter_source(const std::vector<NamedValue>& parts);

}  // namespace mpiply::detail
