// Committing packed rows of the task database (block_inserter.hpp).
#include "taskdb/block_inserter.hpp"

#include <string_view>
#include <vector>

#include <sqlite3.h>

#include "taskdb/checksum.hpp"
#include "taskdb/name_table.hpp"
#include "taskdb/shared_connection.hpp"

namespace mpiply::detail {

std::string BlockInserter::commit(std::span<const std::unique_ptr<StagedBatch>> work) {
  // Varints and interned names are packed here, off the appending thread and outside the
  // connection's lock, so resume lookups and the hub's reads wait only for the SQLite part.
  std::vector<const std::string*> names;
  names_.snapshot(names);
  for (const auto& w : work) w->pack(checksums_, names);
  auto lk = conn_.lock();
  sqlite3* db = conn_.handle();
  try {
    if (!insert_) {
      insert_.emplace(db,
                      "INSERT INTO blocks(run, min_msg, max_msg, count, n_ok, n_failed, "
                      "n_reused, strings, meta, checksum, results) "
                      "VALUES(?,?,?,?,?,?,?,?,?,?,?)");
      update_.emplace(db,
                      "UPDATE runs SET tasks = tasks + ?, ok = ok + ?, failed = failed + ?, "
                      "reused = reused + ? WHERE id = ?");
    }
    sqlite_exec(db, "BEGIN");
    std::uint64_t n = 0, ok = 0, bad = 0, reused = 0;
    for (const auto& w : work) {
      const BlockEncoder& b = w->packed;
      const BlockCounts& c = b.counts();
      std::string strings = b.finish_strings();
      std::string_view meta{b.meta().data(), b.meta().size()};
      insert_->bind(1, run_)
          .bind(2, static_cast<std::int64_t>(c.min_msg()))
          .bind(3, static_cast<std::int64_t>(c.max_msg()))
          .bind(4, static_cast<std::int64_t>(c.count()))
          .bind(5, static_cast<std::int64_t>(c.ok()))
          .bind(6, static_cast<std::int64_t>(c.failed()))
          .bind(7, static_cast<std::int64_t>(c.reused()))
          .bind_blob(8, strings)
          .bind_blob(9, meta)
          .bind_blob(11, {w->results.data(), w->results.size()});
      // Left NULL (unbound) when the bench knob turned checksums off: unverifiable rows.
      if (b.checksums)
        insert_->bind(10, static_cast<std::int64_t>(row_checksum(strings, meta)));
      insert_->step();
      insert_->reset();
      n += c.count();
      ok += c.ok();
      bad += c.failed();
      reused += c.reused();
    }
    update_->bind(1, std::int64_t(n)).bind(2, std::int64_t(ok)).bind(3, std::int64_t(bad));
    update_->bind(4, std::int64_t(reused)).bind(5, run_);
    update_->step();
    update_->reset();
    sqlite_exec(db, "COMMIT");
  } catch (const std::exception& e) {
    if (insert_) insert_->reset();
    if (update_) update_->reset();
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    std::string failed = e.what();
    return failed.empty() ? "unknown error" : failed;
  }
  rows_.fetch_add(work.size(), std::memory_order_relaxed);
  transactions_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

void BlockInserter::finish() {
  insert_.reset();
  update_.reset();
}

}  // namespace mpiply::detail
