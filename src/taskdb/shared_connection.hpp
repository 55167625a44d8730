#pragma once
// The one SQLite connection of an open TaskDb. The writer thread commits through it, resume
// lookups read stored results through it and the hub's reads borrow it: the writing process holds
// the file exclusively, so no second connection can open it. Each use holds the lock.
#include <mutex>
#include <string>

#include "taskdb/task_db_schema.hpp"

struct sqlite3;

namespace mpiply::detail {

class SharedConnection {
 public:
  SharedConnection(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  ~SharedConnection();  // closes it if close() was not called (a failed open)
  SharedConnection(const SharedConnection&) = delete;
  SharedConnection& operator=(const SharedConnection&) = delete;

  const std::string& path() const noexcept { return path_; }
  // Hold the returned lock for as long as handle() is used; handle() is null once closed.
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mu_); }
  sqlite3* handle() const noexcept { return db_; }
  // f(db) with the connection locked. A closed connection, or an SQLite failure, throws the
  // UsageError that names the file (`doing` says what was being read).
  template <class F>
  auto read(const char* doing, F&& f) {
    std::lock_guard lk(mu_);
    if (!db_) throw_db_error(path_, "is closed", "Query it before close, or open a TaskDbReader");
    try {
      return f(db_);
    } catch (const std::exception& e) {
      rethrow_db_failure(path_, e, doing);
    }
  }
  // Copies the WAL into the database file and closes it, so that the file stands alone.
  void close();

 private:
  std::string path_;
  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace mpiply::detail
