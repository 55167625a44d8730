// Checked SQLite calls for the task database (see sqlite_util.hpp).
#include "taskdb/sqlite_util.hpp"

#include <fmt/format.h>

namespace mpiply::detail {

void sqlite_check(sqlite3* db, int rc, std::string_view doing) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw SqliteFailure(rc, fmt::format("{}: {} (SQLite code {})", doing, msg, rc));
}

void sqlite_exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteFailure(rc, fmt::format("{}: {} (SQLite code {})", sql, msg, rc));
  }
}

std::string sqlite_text(sqlite3* db, const char* sql) {
  Stmt s(db, sql);
  return s.step() ? std::string(s.text(0)) : std::string();
}

std::int64_t sqlite_int(sqlite3* db, const char* sql) {
  Stmt s(db, sql);
  return s.step() ? s.int64(0) : 0;
}

Stmt::Stmt(sqlite3* db, const char* sql) : db_(db), sql_(sql) {
  sqlite_check(db, sqlite3_prepare_v2(db, sql, -1, &s_, nullptr), sql);
}
Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::bind(int i, std::int64_t v) {
  sqlite_check(db_, sqlite3_bind_int64(s_, i, v), sql_);
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view text) {
  sqlite_check(db_, sqlite3_bind_text64(s_, i, text.data(), text.size(), SQLITE_TRANSIENT,
                                        SQLITE_UTF8),
               sql_);
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::string_view bytes) {
  // SQLITE_STATIC: the caller keeps the bytes alive until the statement has run.
  // A null pointer would bind SQL NULL; an empty blob is still a blob.
  const char* p = bytes.data() ? bytes.data() : "";
  sqlite_check(db_, sqlite3_bind_blob64(s_, i, p, bytes.size(), SQLITE_STATIC), sql_);
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite_check(db_, rc, sql_);
  return false;
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

bool Stmt::null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

std::int64_t Stmt::int64(int col) const { return sqlite3_column_int64(s_, col); }
std::string_view Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
           : std::string_view();
}
std::string_view Stmt::blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
           : std::string_view();
}

}  // namespace mpiply::detail
