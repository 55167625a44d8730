// What the hub gives back: a purged or culled task's record and everything kept beside it, and
// the cap (MPIPLY_HUB_KEEP, docs/hub.md "Memory") that culls the oldest finished tasks no
// AsyncResult holds any more, as Dask forgets the tasks of released futures. A culled task's
// values went to its AsyncResult when it finished; only the hub's copy (get_result by msg id,
// metadata, db_query) goes, and with the task database on it stays readable from the file.
#include <malloc.h>

#include "client/client_core.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

void ClientCore::release_record_locked(MsgId id, bool culled) {
  std::size_t i = id - base_;
  TaskRecord& r = record(id);
  if (!(r.hub & kValuesPurged)) {
    store_.drop(i);
    r.hub |= kValuesPurged;
    Submission& sub = store_.submission(id);
    if (--sub.kept == 0) sub.src.reset();
  }
  sched_.forget(id);  // its per-task entry (flags, attempts)
  r.hub |= kRecordPurged;
  if (culled) {
    r.hub |= kCulled;
    ++culled_;
  }
  if (!outputs_.empty()) outputs_.erase(id);
  usage_.release(i);
  live_.forget(id);
  store_.release_task(id);
  --hub_finished_;
  records_.release(i);  // last: its block may go with it
}

// Oldest first, from the first msg id still in the hub. A task still outstanding is passed
// over, and a submission whose AsyncResult is held (or which still has tasks to finish) is
// passed over whole. When that leaves more than the cap (the user holds many results), the
// next look waits for a share of the cap more tasks to finish, so that passing over the held
// ones again costs little per task.
void ClientCore::cull_locked() {
  const MsgId end = next_msg_locked();
  const std::size_t blocks_before = records_.blocks_held();
  MsgId id = cull_from_ < base_ ? base_ : cull_from_;
  bool prefix_gone = true;  // every msg id before id is out of the hub
  while (hub_finished_ > hub_keep_ && id < end) {
    std::size_t i = id - base_;
    if (!records_.present(i)) {  // a freed block: all of it is gone
      id = base_ + ((i >> RecordTable::kBlockShift) + 1) * RecordTable::kBlock;
      if (prefix_gone) cull_from_ = std::min(id, end);
      continue;
    }
    TaskRecord& r = record(id);
    if (r.hub & kRecordPurged) {
      ++id;
    } else if (!finished(r)) {
      prefix_gone = false;
      ++id;
    } else {
      const Submission& sub = store_.submission(id);
      if (sub.state || !sub.watch.expired()) {
        prefix_gone = false;
        id = sub.first + sub.ntasks;
        continue;
      }
      release_record_locked(id, true);
      ++id;
    }
    if (prefix_gone) cull_from_ = id;
  }
  const std::uint64_t slack = std::max<std::uint64_t>(hub_keep_ / 16, 64);
  cull_at_ = hub_finished_ <= hub_keep_ ? hub_keep_ : hub_finished_ + slack;
#ifdef __GLIBC__
  if (records_.blocks_held() < blocks_before) malloc_trim(0);  // freed blocks go to the system
#endif
}

}  // namespace mpiply::detail
