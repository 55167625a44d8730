// Snapshots of a database in use (task_db_snapshot.hpp). Why a copy is consistent: in WAL mode
// the main file changes only by checkpoints, which copy pages that stay in the WAL until the
// writer restarts it (new salts in the WAL header). A copy of the main file followed by a copy
// of the WAL, with the same WAL header before and after, holds every committed page: recovery
// on open replays the WAL's frames over the main file and stops at the first frame whose
// checksum fails (a frame half-written while it was copied, and everything after it).
#include "taskdb/task_db_snapshot.hpp"

#include <stdlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <sqlite3.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

namespace fs = std::filesystem;

namespace {

constexpr int kAttempts = 5;

// The WAL header (magic, format, page size, checkpoint sequence, salts, checksum): it changes
// only when the writer restarts the WAL.
std::optional<std::array<char, 32>> wal_header(const std::string& wal) {
  std::FILE* f = std::fopen(wal.c_str(), "rb");
  if (!f) return std::nullopt;
  std::array<char, 32> h{};
  std::size_t n = std::fread(h.data(), 1, h.size(), f);
  std::fclose(f);
  if (n != h.size()) return std::nullopt;
  return h;
}

}  // namespace

bool db_in_use(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return false;  // open_task_db reports why
  }
  int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  int primary = sqlite3_extended_errcode(db) & 0xff;
  sqlite3_close(db);
  return rc != SQLITE_OK && (primary == SQLITE_BUSY || primary == SQLITE_LOCKED);
}

DbSnapshot snapshot_db(const std::string& path) {
  std::string tmpl = (fs::temp_directory_path() / "mpiply-db-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw Error(fmt::format("the task database {} is in use by a running job, and no temporary "
                            "directory for a copy could be made in {}; set TMPDIR to a writable "
                            "directory",
                            path, fs::temp_directory_path().string()));
  DbSnapshot s{tmpl, (fs::path(tmpl) / fs::path(path).filename()).string()};
  try {
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      auto before = wal_header(path + "-wal");
      fs::copy_file(path, s.path, fs::copy_options::overwrite_existing);
      std::error_code ec;
      fs::remove(s.path + "-wal", ec);
      if (before) fs::copy_file(path + "-wal", s.path + "-wal", fs::copy_options::overwrite_existing);
      if (wal_header(s.path + "-wal") == before) return s;
    }
  } catch (const fs::filesystem_error& e) {
    remove_snapshot(s.dir);
    throw Error(fmt::format("the task database {} is in use by a running job, and copying it to "
                            "{} failed: {}; set TMPDIR to a directory with room for it",
                            path, s.dir, e.code().message()));
  }
  remove_snapshot(s.dir);
  throw Error(fmt::format("the task database {} is in use by a running job, which restarted its "
                          "write-ahead log during each of {} copies; try again",
                          path, kAttempts));
}

void remove_snapshot(const std::string& dir) noexcept {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace mpiply::detail
