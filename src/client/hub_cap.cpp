// What the hub gives back: a purged or culled task's record and everything kept beside it, and
// the cap (MPIPLY_HUB_KEEP, docs/hub.md "Memory") that culls the oldest finished tasks no
// AsyncResult holds any more, as Dask forgets the tasks of released futures. A culled task's
// values went to its AsyncResult when it finished; only the hub's copy (get_result by msg id,
// metadata, db_query) goes, and with the task database on it stays readable from the file.
#include <algorithm>
#include <malloc.h>

#include "client/hub_cap.hpp"

namespace mpiply::detail {

void HubCap::release_record_locked(MsgId id, bool culled) {
  std::size_t i = id - table_.base_locked();
  TaskRecord& r = table_.record(id);
  if (!(r.hub & kValuesPurged)) {
    table_.store().drop(i);
    r.hub |= kValuesPurged;
    Submission& sub = table_.submissions().submission(id);
    if (--sub.kept == 0) table_.submissions().calls().drop(sub.call);
  }
  sched_.forget(id);  // its per-task entry (flags, attempts)
  r.hub |= kRecordPurged;
  if (culled) {
    r.hub |= kCulled;
    ++culled_;
  }
  table_.capture().release(i);
  live_.forget(id);
  table_.submissions().release_task(id);
  --finished_;
  table_.records().release(i);  // last: its block may go with it
}

// Oldest first, from the first msg id still in the hub. A task still outstanding is passed
// over, and a submission whose AsyncResult is held (or which still has tasks to finish) is
// passed over whole. When that leaves more than the cap (the user holds many results), the
// next look waits for a share of the cap more tasks to finish, so that passing over the held
// ones again costs little per task.
void HubCap::cull_locked() {
  const MsgId end = table_.next_msg_locked();
  const std::size_t blocks_before = table_.records().blocks_held();
  MsgId id = cull_from_ < table_.base_locked() ? table_.base_locked() : cull_from_;
  bool prefix_gone = true;  // every msg id before id is out of the hub
  while (finished_ > keep_ && id < end) {
    std::size_t i = id - table_.base_locked();
    if (!table_.records().present(i)) {  // a freed block: all of it is gone
      id = table_.base_locked() + ((i >> RecordTable::kBlockShift) + 1) * RecordTable::kBlock;
      if (prefix_gone) cull_from_ = std::min(id, end);
      continue;
    }
    TaskRecord& r = table_.record(id);
    if (r.hub & kRecordPurged) {
      ++id;
    } else if (!record_finished(r)) {
      prefix_gone = false;
      ++id;
    } else {
      const Submission& sub = table_.submissions().submission(id);
      if (sub.state || table_.submissions().watched(id)) {
        prefix_gone = false;
        id = sub.first + sub.ntasks;
        continue;
      }
      release_record_locked(id, true);
      ++id;
    }
    if (prefix_gone) cull_from_ = id;
  }
  const std::uint64_t slack = std::max<std::uint64_t>(keep_ / 16, 64);
  cull_at_ = finished_ <= keep_ ? keep_ : finished_ + slack;
#ifdef __GLIBC__
  if (table_.records().blocks_held() < blocks_before) malloc_trim(0);  // freed blocks go to the system
#endif
}

}  // namespace mpiply::detail
