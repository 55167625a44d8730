#pragma once
// Thin RAII over the SQLite C API for the task database: a prepared statement and checked calls.
// Failures throw SqliteFailure (the result code and SQLite's message); the database code turns
// them into messages that name the file and say what to do.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sqlite3.h>

namespace mpiply::detail {

class SqliteFailure : public std::runtime_error {
 public:
  SqliteFailure(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }
  int primary() const noexcept { return code_ & 0xff; }

 private:
  int code_;
};

// Throws SqliteFailure unless rc is one of ok, row or done.
void sqlite_check(sqlite3* db, int rc, std::string_view doing);
void sqlite_exec(sqlite3* db, const char* sql);
// A one-value query (a PRAGMA, a count): the first column of the first row as text or int.
std::string sqlite_text(sqlite3* db, const char* sql);
std::int64_t sqlite_int(sqlite3* db, const char* sql);

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::string_view text);
  Stmt& bind_blob(int i, std::string_view bytes);
  // Steps once: true with a row ready, false when done. Throws on an error.
  bool step();
  void reset();  // resets and clears the bindings, ready to run again

  std::int64_t int64(int col) const;
  bool null(int col) const;  // the column holds SQL NULL
  std::string_view text(int col) const;
  std::string_view blob(int col) const;  // valid until the next step/reset

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  const char* sql_;
};

}  // namespace mpiply::detail
