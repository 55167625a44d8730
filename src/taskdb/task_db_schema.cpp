// Schema creation and the checks made on opening a task database (task_db_schema.hpp).
#include "taskdb/task_db_schema.hpp"

#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include <mpiply/detail/registry.hpp>
#include <mpiply/version.hpp>

#include "taskdb/sqlite_util.hpp"

namespace mpiply::detail {

namespace {

constexpr const char* kFixDelete =
    "Delete it (and its -wal file) to start afresh, or pass another database path "
    "(MPIPLY_DB / RunOptions::db)";

// Tables. `blocks` holds the packed task records (task_db_block.hpp); its counts let SQL
// summarise a run without unpacking; `checksum` covers its strings and meta blobs (each result
// carries its own in meta). The results blob is the last column, so reading the others never
// walks its overflow pages.
constexpr const char* kSchema = R"(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY, started_ns INTEGER NOT NULL, finished_ns INTEGER,
  ranks INTEGER NOT NULL, hostname TEXT NOT NULL, pid INTEGER NOT NULL, program TEXT NOT NULL,
  tasks INTEGER NOT NULL DEFAULT 0, ok INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0, reused INTEGER NOT NULL DEFAULT 0);
CREATE TABLE blocks(
  id INTEGER PRIMARY KEY, run INTEGER NOT NULL REFERENCES runs(id),
  min_msg INTEGER NOT NULL, max_msg INTEGER NOT NULL, count INTEGER NOT NULL,
  n_ok INTEGER NOT NULL, n_failed INTEGER NOT NULL, n_reused INTEGER NOT NULL,
  strings BLOB NOT NULL, meta BLOB NOT NULL, checksum INTEGER, results BLOB NOT NULL);
CREATE INDEX blocks_by_msg ON blocks(run, min_msg);
)";

std::string mpiply_version() {
  return fmt::format("{}.{}.{}", MPIPLY_VERSION_MAJOR, MPIPLY_VERSION_MINOR, MPIPLY_VERSION_PATCH);
}

std::string meta_value(sqlite3* db, const char* key) {
  Stmt s(db, "SELECT value FROM meta WHERE key = ?");
  s.bind(1, std::string_view(key));
  return s.step() ? std::string(s.text(0)) : std::string();
}

void set_meta(sqlite3* db, const char* key, const std::string& value) {
  Stmt s(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
  s.bind(1, std::string_view(key)).bind(2, value);
  s.step();
}

// The first access to the file: tells garbage, a locked file and an unreadable one apart.
void probe(const std::string& path, sqlite3* db) {
  try {
    sqlite_int(db, "SELECT count(*) FROM sqlite_master");
  } catch (const SqliteFailure& e) {
    switch (e.primary()) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        throw_db_error(path,
                       "is locked by another process (a job that is still running with it, or "
                       "a tool reading it)",
                       "Wait for that process to end, or pass another database path "
                       "(MPIPLY_DB / RunOptions::db)");
      case SQLITE_NOTADB:
        throw_db_error(path, "is not an SQLite database (garbage, or a file of another kind)",
                       kFixDelete);
      case SQLITE_CORRUPT:
        throw_db_error(path, fmt::format("is corrupt or truncated ({})", sqlite3_errstr(e.code())),
                       kFixDelete);
      default:
        throw_db_error(path, fmt::format("cannot be read: {}", e.what()),
                       "Check the path and its permissions");
    }
  }
}

void check_intact(const std::string& path, sqlite3* db) {
  std::string verdict;
  try {
    // Reads every page: finds truncation and torn pages. Cost grows with the file (see docs).
    verdict = sqlite_text(db, "PRAGMA quick_check(1)");
  } catch (const SqliteFailure& e) {
    throw_db_error(path, fmt::format("is corrupt or truncated ({})", sqlite3_errstr(e.code())),
                   kFixDelete);
  }
  if (verdict != "ok")
    throw_db_error(path, fmt::format("is corrupt or truncated (SQLite's check: {})", verdict),
                   kFixDelete);
}

void check_program(const std::string& path, sqlite3* db, const ProgramIdentity& p) {
  std::string exe = meta_value(db, "executable"), hash = meta_value(db, "functions_hash");
  if (exe == p.executable && hash == p.functions_hash) return;
  std::string what =
      exe != p.executable
          ? fmt::format("was written by another program ('{}'; this is '{}')", exe, p.executable)
          : fmt::format("was written by '{}' with other registered functions ({} then, {} now; "
                        "a function was added, removed, renamed or changed its signature)",
                        exe, meta_value(db, "functions"), p.functions);
  throw_db_error(path, what,
                 "Stored results are reused only by the program that wrote them. Delete it to "
                 "start afresh, or pass another database path (MPIPLY_DB / RunOptions::db)");
}

void create_schema(sqlite3* db, const ProgramIdentity& p) {
  sqlite_exec(db, kSchema);
  set_meta(db, "format", std::to_string(kTaskDbFormat));
  set_meta(db, "executable", p.executable);
  set_meta(db, "functions_hash", p.functions_hash);
  set_meta(db, "functions", std::to_string(p.functions));
  set_meta(db, "mpiply_version", mpiply_version());
  sqlite_exec(db, fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {};",
                              kTaskDbApplicationId, kTaskDbFormat)
                      .c_str());
}

}  // namespace

void throw_db_error(const std::string& path, const std::string& what, const std::string& fix) {
  throw UsageError(fmt::format("mpiply: task database '{}' {}. {}", path, what, fix));
}

void rethrow_db_failure(const std::string& path, const std::exception& e, const char* doing) {
  if (const auto* f = dynamic_cast<const SqliteFailure*>(&e)) {
    if (f->primary() == SQLITE_FULL)
      throw_db_error(path, fmt::format("could not be written while {}: the disk is full", doing),
                     "Free space or pass a database path on another file system");
    if (f->primary() == SQLITE_CORRUPT || f->primary() == SQLITE_NOTADB)
      throw_db_error(path, fmt::format("is corrupt ({} while {})", f->what(), doing), kFixDelete);
  }
  if (dynamic_cast<const ValueDecodeError*>(&e))
    throw_db_error(path, fmt::format("is corrupt ({} while {})", e.what(), doing), kFixDelete);
  if (dynamic_cast<const UsageError*>(&e)) throw;
  throw_db_error(path, fmt::format("failed while {}: {}", doing, e.what()),
                 "Check the disk and the file's permissions");
}

// Before SQLite sees the path: a path that is not a regular file, and a file that is not an
// mpiply task database, are refused here, so SQLite never opens them and nothing is written
// into or next to them (not even a journal). Reads the 100-byte SQLite header itself.
namespace {

void check_before_open(const std::string& path, DbAccess access) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      if (access == DbAccess::read)
        throw_db_error(path, "does not exist", "Check the path (the job's MPIPLY_DB / --db value)");
      return;  // created by SQLite
    }
    throw_db_error(path, fmt::format("cannot be examined: {}", std::strerror(errno)),
                   "Check the path and the permissions of its directories");
  }
  if (S_ISDIR(st.st_mode))
    throw_db_error(path, "is a directory", "Pass the path of a file (it is created if missing)");
  if (!S_ISREG(st.st_mode))
    throw_db_error(path, "is not a regular file (a device, pipe or socket)",
                   "Pass the path of a regular file (it is created if missing); mpiply never "
                   "writes into or next to a file it did not create");
  if (st.st_size == 0) {
    // Nothing to lose: an empty file is what SQLite leaves after an interrupted creation.
    if (access == DbAccess::read) throw_db_error(path, "is empty (no job has written it)", "Check the path");
    return;
  }
  unsigned char h[100] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw_db_error(path, fmt::format("cannot be read: {}", std::strerror(errno)),
                   "Check the file's permissions");
  std::size_t got = std::fread(h, 1, sizeof h, f);
  std::fclose(f);
  if (got < sizeof h || std::memcmp(h, "SQLite format 3", 16) != 0)
    throw_db_error(path, "is not an SQLite database (garbage, or a file of another kind)",
                   "Pass another database path (MPIPLY_DB / RunOptions::db); mpiply never "
                   "writes into a file it did not create");
  auto be32 = [&](int at) {
    return std::uint32_t(h[at]) << 24 | std::uint32_t(h[at + 1]) << 16 |
           std::uint32_t(h[at + 2]) << 8 | std::uint32_t(h[at + 3]);
  };
  std::uint32_t app = be32(68), user_version = be32(60);
  if (app == static_cast<std::uint32_t>(kTaskDbApplicationId)) return;
  // Application id 0 is still ours in one case: a creation interrupted before its first
  // checkpoint, whose schema is only in the -wal file beside it (checked again once open).
  std::error_code ec;
  bool wal = std::filesystem::exists(path + "-wal", ec);
  if (app == 0 && user_version == 0 && wal) return;
  throw_db_error(path,
                 app != 0 ? fmt::format("is an SQLite database of another application "
                                        "(application id {:#x}), not an mpiply task database",
                                        app)
                          : fmt::format("is an SQLite database of another application (no "
                                        "mpiply application id; user_version {}), not an mpiply "
                                        "task database",
                                        user_version),
                 "Pass another database path (MPIPLY_DB / RunOptions::db); mpiply never writes "
                 "into a file it did not create");
}

}  // namespace

sqlite3* open_task_db(const std::string& path, DbAccess access, const ProgramIdentity* program) {
  check_before_open(path, access);

  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (access == DbAccess::write ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw_db_error(path, fmt::format("cannot be opened: {}", msg),
                   "Check that its directory exists and is writable");
  }
  try {
    sqlite3_extended_result_codes(db, 1);
    // A lock held by another process is reported after this long rather than waited out.
    sqlite3_busy_timeout(db, 100);
    // Writers hold the file exclusively until close: a second job on the same database is
    // refused instead of interleaving its runs. Set before the first access, so WAL runs
    // without a shared-memory index (rank 0 is the only process using it).
    if (access == DbAccess::write) sqlite_exec(db, "PRAGMA locking_mode = EXCLUSIVE");
    probe(path, db);
    std::int64_t tables = sqlite_int(db, "SELECT count(*) FROM sqlite_master");
    std::int64_t app = sqlite_int(db, "PRAGMA application_id");
    bool fresh = tables == 0 && app == 0 && sqlite_int(db, "PRAGMA user_version") == 0;
    if (!fresh && app != kTaskDbApplicationId)
      throw_db_error(path,
                     "is an SQLite database of another application, not an mpiply task database",
                     "Pass another database path (MPIPLY_DB / RunOptions::db); mpiply never "
                     "writes into a file it did not create");
    if (fresh && access == DbAccess::read)
      throw_db_error(path, "is empty (no job has written it)", "Check the path");
    if (!fresh) {
      check_intact(path, db);
      std::int64_t version = sqlite_int(db, "PRAGMA user_version");
      if (version != kTaskDbFormat)
        throw_db_error(path,
                       fmt::format("was written in task-database format {}; this build of "
                                   "mpiply ({}) reads and writes format {}",
                                   version, mpiply_version(), kTaskDbFormat),
                       version > kTaskDbFormat
                           ? "Use the newer mpiply that wrote it, or pass another database path"
                           : "Delete it to start afresh (old results are not reused), or pass "
                             "another database path (MPIPLY_DB / RunOptions::db)");
    }
    if (access == DbAccess::write) {
      // 64 KiB pages: a packed row spans few pages, and the WAL is written in 16x fewer calls.
      // Only a new file takes it (before WAL mode fixes the header).
      if (fresh) sqlite_exec(db, "PRAGMA page_size = 65536");
      if (sqlite_text(db, "PRAGMA journal_mode = WAL") != "wal")
        throw_db_error(path, "cannot be put in WAL mode (a file system without locking?)",
                       "Put the database on a local or locking file system");
      // Commits are not fsynced; the WAL is fsynced at each checkpoint, every 256 pages (16 MiB):
      // what a power loss can take back (docs/database.md).
      sqlite_exec(db, "PRAGMA synchronous = NORMAL");
      sqlite_exec(db, "PRAGMA wal_autocheckpoint = 256");
      // SQLite's page cache, 2 MiB. Set after the page size: a connection that opened a new file
      // counted its default 2000 KiB in 4 KiB pages and keeps that count for 64 KiB ones, a cache
      // of 32 MiB, each page of it memory touched for the first time (docs/database.md, "fsync
      // policy").
      sqlite_exec(db, "PRAGMA cache_size = -2048");
      sqlite_exec(db, "BEGIN IMMEDIATE");
      if (fresh) create_schema(db, *program);
      else check_program(path, db, *program);
      sqlite_exec(db, "COMMIT");
    }
    return db;
  } catch (const UsageError&) {
    sqlite3_close(db);
    throw;
  } catch (const std::exception& e) {
    sqlite3_close(db);
    rethrow_db_failure(path, e, "opening it");
  }
}

ProgramIdentity ProgramIdentity::current() {
  ProgramIdentity p;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  p.executable = ec ? std::string(program_invocation_short_name) : exe.filename().string();
  KeyHasher h("mpiply registered functions");
  for (const NamedSignature& s : registered_signatures()) {
    h.update(s.name);
    h.update("\0", 1);
    h.update(s.signature);
    h.update("\0", 1);
    ++p.functions;
  }
  p.functions_hash = h.finish().hex();
  return p;
}

}  // namespace mpiply::detail
