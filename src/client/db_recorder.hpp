#pragma once
// Rank 0's use of the task database (docs/database.md, "Integration"): every finished task is
// appended as its result is handled, and at dispatch a task an earlier run finished is filled
// from its stored result instead of being sent. Every hook tests on() first: nothing here runs
// without MPIPLY_DB. The *_locked members run with the client lock held; the others take it.
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/engine_roster.hpp"
#include "client/recorded_names.hpp"
#include "hub/task_table.hpp"
#include "taskdb/task_db.hpp"

namespace mpiply::detail {

class ResultHandler;

class DbRecorder {
 public:
  // mu: the client lock. The references outlive the recorder (ClientCore owns all of them).
  DbRecorder(std::mutex& mu, const EngineRoster& roster, TaskTable& table,
             ResultHandler& results)
      : mu_(mu), roster_(roster), table_(table), results_(results), names_(roster) {}
  DbRecorder(const DbRecorder&) = delete;
  DbRecorder& operator=(const DbRecorder&) = delete;

  // From here on every finished task is recorded, and tasks an earlier run finished are filled
  // from it instead of being sent. A drain flushes it. close closes it and returns rank 0's
  // summary line ("" when off).
  void attach(std::shared_ptr<TaskDb> db, bool resume, bool any_build);
  std::string close();
  // kExitNotRecorded if code is 0 and the database failed to record a task, else code.
  int exit_code(int code);
  bool on() const noexcept { return db_ != nullptr; }
  const std::shared_ptr<TaskDb>& db_locked() const { return db_; }
  // Computes the task's key and, if an earlier run finished it, fills its items as a result
  // would and returns true (the task is not sent).
  bool reuse_locked(const std::shared_ptr<TaskSource>& src, TaskRecord& rec, MsgId id,
                    std::span<const char> msg, ResumeKey& key);
  void append_locked(const TaskRecord& rec, MsgId id, const ResumeKey& key,
                     std::span<const char> result, std::string_view error);

 private:
  std::mutex& mu_;
  const EngineRoster& roster_;
  TaskTable& table_;
  ResultHandler& results_;
  std::shared_ptr<TaskDb> db_;  // null: off (every hook is behind one test of this)
  bool resume_ = false;
  bool any_build_ = false;
  std::uint64_t reused_ = 0;
  std::uint64_t malformed_ = 0;  // stored results whose checksum matched but did not decode
  RecordedNames names_;          // the ids of names interned in db_
  Bytes scratch_;
};

}  // namespace mpiply::detail
