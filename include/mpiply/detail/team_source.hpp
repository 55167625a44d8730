#pragma once
// The submissions behind apply_team_root and map_team (docs/resources.md "Teams"): a team task
// is k consecutive tasks, one per member (src/scheduling/scheduler_teams.cpp), so N items run
// as N teams make N * k tasks. TeamSource repeats each task of an inner source (an apply, or a
// map cut one item per task) for the k members of its team; the client inserts each member's
// TeamBlock when it sends. RootState keeps only team rank 0's values.
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include <mpiply/detail/result_state.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/wire.hpp>

namespace mpiply::detail {

struct TeamSource : TaskSource {
  std::shared_ptr<TaskSource> inner;  // one task per item
  std::uint32_t k = 1;                // members per team
  bool root_only = false;             // members of rank > 0 send no value (kRunTeamRoot)

  TeamSource(std::shared_ptr<TaskSource> in, std::uint32_t members, bool root)
      : inner(std::move(in)), k(members), root_only(root) {
    fn_id = inner->fn_id;
    has_references = inner->has_references;
    team = true;
    ntasks = inner->ntasks * k;
  }
  // Member slot t (item t / k, team rank t % k) is its own result item.
  std::size_t item_begin(std::uint32_t task) const override { return task; }
  std::uint32_t item_count(std::uint32_t) const override { return 1; }
  std::span<const char> encode(std::uint32_t task, Bytes& scratch,
                               std::vector<Segment>& segments) override {
    inner->flags = flags;  // the inner source stamps the run bits from them
    std::span<const char> m = inner->encode(task / k, scratch, segments);
    // Every member gets a copy of its own: its msg id differs, and the send is asynchronous.
    if (m.data() != scratch.data()) {
      scratch.clear();
      scratch.append(m.data(), m.size());
    }
    MsgId id = first_msg + task;
    std::memcpy(scratch.data() + offsetof(TaskHeader, msg_id), &id, sizeof id);
    if (root_only) scratch.data()[offsetof(TaskHeader, run)] |= static_cast<char>(kRunTeamRoot);
    return {scratch.data(), scratch.size()};
  }
};

// A team result that keeps team rank 0's value only: the other members answer with an empty
// value (the engine drops theirs, kRunTeamRoot), which is not decoded. Item t is member t % team.
// The views start it as a ResultState<V>, so its factory makes a plain one: a state the hub
// rebuilds over chosen msg ids does not know their team ranks, and there a member's empty
// answer fails to decode rather than passing for a value.
template <class V>
class RootState : public ResultState<V> {
 public:
  RootState(std::shared_ptr<ClientCore> c, std::string f, std::size_t n, std::uint32_t k)
      : ResultState<V>(std::move(c), std::move(f), n), team(k) {}
  void store_value(std::size_t item, Reader& r) override {
    if (item % team != 0) return;
    ResultState<V>::store_value(item, r);
  }
  const std::uint32_t team;
};

}  // namespace mpiply::detail
