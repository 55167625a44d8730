// Closing the task database's connection (shared_connection.hpp).
#include "taskdb/shared_connection.hpp"

#include <sqlite3.h>

namespace mpiply::detail {

SharedConnection::~SharedConnection() { close(); }

void SharedConnection::close() {
  std::lock_guard lk(mu_);
  if (!db_) return;
  // TRUNCATE also fsyncs the database file: after close the file holds every commit by itself.
  sqlite3_exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_close(db_);
  db_ = nullptr;
}

}  // namespace mpiply::detail
