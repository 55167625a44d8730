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
#include <unordered_map>
#include <vector>

#include <mpiply/detail/core.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/engine_roster.hpp"
#include "hub/task_table.hpp"
#include "taskdb/task_db.hpp"

namespace mpiply::detail {

class ResultHandler;

class DbRecorder {
 public:
  // mu: the client lock. The references outlive the recorder (ClientCore owns all of them).
  DbRecorder(std::mutex& mu, const EngineRoster& roster, TaskTable& table,
             ResultHandler& results)
      : mu_(mu), roster_(roster), table_(table), results_(results) {}
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
  struct DbFunction {
    std::string name;
    KeyHasher seed;
    bool collective = false;
    std::string code;  // TaskRow::code: "version:<v>" if registered with one, else "build:<id>"
    std::uint32_t name_id = 0, code_id = 0;  // TaskDb::name of name and code
  };
  std::uint32_t host_name_locked(int engine);
  const DbFunction& function_locked(std::uint64_t fn_id);

  std::mutex& mu_;
  const EngineRoster& roster_;
  TaskTable& table_;
  ResultHandler& results_;
  std::shared_ptr<TaskDb> db_;  // null: off (every hook is behind one test of this)
  bool resume_ = false;
  bool any_build_ = false;
  std::uint64_t reused_ = 0;
  std::uint64_t malformed_ = 0;  // stored results whose checksum matched but did not decode
  std::unordered_map<std::uint64_t, DbFunction> functions_;  // names interned in db_
  // The last function_locked answer (map nodes never move): a map's tasks, and the send and
  // the result of one task, ask for the same function in a row.
  std::uint64_t last_fn_id_ = 0;
  const DbFunction* last_fn_ = nullptr;
  std::vector<std::uint32_t> host_names_;  // TaskDb::name of each engine's host, 0 = not yet
  Bytes scratch_;
};

}  // namespace mpiply::detail
