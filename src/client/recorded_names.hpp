#pragma once
// The names rank 0 records with every finished task (docs/database.md): the function, the
// identity of its code and the host of the engine that ran it. Each is interned once in the open
// task database (TaskDb::name) and passed by id afterwards, so appending a task copies no text
// it already sent. A map's tasks, and the send and the result of one task, ask for the same
// function in a row: the last answer is kept at hand. Used under the client lock.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/engine_roster.hpp"
#include "taskdb/resume_key.hpp"
#include "taskdb/task_db.hpp"

namespace mpiply::detail {

class RecordedNames {
 public:
  // A registered function as the database records it.
  struct Function {
    std::string name;
    KeyHasher seed;  // resume keys of its calls start here
    bool collective = false;
    std::string code;  // TaskRow::code: "version:<v>" if registered with one, else "build:<id>"
    std::uint32_t name_id = 0, code_id = 0;  // TaskDb::name of name and code
  };

  explicit RecordedNames(const EngineRoster& roster) : roster_(roster) {}
  RecordedNames(const RecordedNames&) = delete;
  RecordedNames& operator=(const RecordedNames&) = delete;

  // From here on names are interned in db (null: none is open); the ids known so far were the
  // previous database's and are dropped.
  void reset(TaskDb* db);
  // Function fn_id (0: a push, pull... which has no registered function: an empty name).
  const Function& function(std::uint64_t fn_id);
  // The id of the host name engine reported at start-up.
  std::uint32_t host(int engine);

 private:
  const EngineRoster& roster_;
  TaskDb* db_ = nullptr;
  std::unordered_map<std::uint64_t, Function> functions_;
  std::uint64_t last_fn_id_ = 0;
  const Function* last_fn_ = nullptr;  // map nodes never move
  std::vector<std::uint32_t> hosts_;   // per engine; 0 = not interned yet
};

}  // namespace mpiply::detail
