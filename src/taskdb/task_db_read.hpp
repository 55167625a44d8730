#pragma once
// The read side of the task database over an open connection, shared by TaskDbReader (tools, a
// later run) and TaskDb (queries while a run writes). The caller serialises access.
#include <functional>
#include <optional>
#include <vector>

#include "taskdb/task_db.hpp"

struct sqlite3;

namespace mpiply::detail {

// One line on stderr: a row whose checksum fails is left out of `doing` (a query, a history).
void report_damaged_row(std::int64_t block, std::int64_t count, const char* doing);

StoredTask to_stored(const TaskRow& row, std::int64_t run);

std::vector<RunInfo> db_runs(sqlite3* db);
std::vector<MsgId> db_history(sqlite3* db, std::int64_t run);
// Throws ValueDecodeError, naming the record, when its row or its result fails its checksum.
std::optional<StoredTask> db_get(sqlite3* db, std::int64_t run, MsgId msg_id);
// run 0: every run. Throws ValueDecodeError at a row or result that fails its checksum. Rows are read and decoded one at a time (memory stays one row's worth).
void db_for_each(sqlite3* db, std::int64_t run, const std::function<void(const StoredTask&)>& fn);

}  // namespace mpiply::detail
