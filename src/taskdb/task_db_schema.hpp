#pragma once
// Opening a task database: creating the schema, or checking that an existing file is an intact
// task database of this format written by this program. Every refusal is a UsageError that names
// the file, says what is wrong and how to fix it; nothing is written to a file that is refused.
#include <string>

#include "taskdb/task_db.hpp"

struct sqlite3;

namespace mpiply::detail {

// "mpip" in the SQLite header's application_id: marks the file as an mpiply task database.
inline constexpr int kTaskDbApplicationId = 0x6d706970;

enum class DbAccess { write, read };

// write: creates the file if missing, takes an exclusive lock held until close, WAL mode,
// synchronous=NORMAL, and checks `program` against the stored identity. read: the file must exist.
sqlite3* open_task_db(const std::string& path, DbAccess access, const ProgramIdentity* program);

// The UsageError thrown for a database problem: "mpiply: task database '<path>' <what>. <fix>".
[[noreturn]] void throw_db_error(const std::string& path, const std::string& what,
                                 const std::string& fix);
// Turns a failure while reading or writing an open database into the same kind of message.
[[noreturn]] void rethrow_db_failure(const std::string& path, const std::exception& e,
                                     const char* doing);

}  // namespace mpiply::detail
