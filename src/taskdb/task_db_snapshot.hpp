#pragma once
// Reading a task database while its job runs. The writer holds the file locked for the whole run
// (EXCLUSIVE locking mode: a second job is refused, and WAL needs no shared-memory index, so the
// file may live on a network file system), so a tool reads a snapshot: a copy of the file and
// its WAL taken while it is written, made consistent by WAL recovery when it is opened.
#include <string>

namespace mpiply::detail {

// Whether another process holds the database locked (SQLite answers "busy" to a read).
bool db_in_use(const std::string& path);

struct DbSnapshot {
  std::string dir;   // a fresh temporary directory, for remove_snapshot
  std::string path;  // the copy of the database in it
};
// Copies path and path-wal into a new directory under TMPDIR; Error naming the problem if it
// cannot (space, permissions) or the writer restarted its WAL during every attempt.
DbSnapshot snapshot_db(const std::string& path);
void remove_snapshot(const std::string& dir) noexcept;

}  // namespace mpiply::detail
