#pragma once
// The task database's writer thread's side of SQLite: packs staged batches into the row format
// and inserts them, with the run's totals, in one transaction per wake-up of the writer, so that
// a commit (and its fsync at checkpoints) is paid per batch of rows, not per task.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "taskdb/sqlite_util.hpp"
#include "taskdb/staged_batch.hpp"

namespace mpiply::detail {

class NameTable;
class SharedConnection;

class BlockInserter {
 public:
  // Rows are recorded for `run`; checksums false only with the bench knob (checksum.hpp).
  BlockInserter(SharedConnection& conn, const NameTable& names, std::int64_t run, bool checksums)
      : conn_(conn), names_(names), run_(run), checksums_(checksums) {}
  BlockInserter(const BlockInserter&) = delete;
  BlockInserter& operator=(const BlockInserter&) = delete;

  // Writes the batches as rows; "" once committed, else the failure (rolled back). On the writer
  // thread only.
  std::string commit(std::span<const std::unique_ptr<StagedBatch>> work);
  // Finalizes the prepared statements: the connection cannot close while they exist.
  void finish();
  // Rows written and transactions committed so far; safe from any thread.
  std::uint64_t rows() const noexcept { return rows_.load(std::memory_order_relaxed); }
  std::uint64_t transactions() const noexcept {
    return transactions_.load(std::memory_order_relaxed);
  }

 private:
  SharedConnection& conn_;
  const NameTable& names_;
  std::int64_t run_;
  bool checksums_;
  std::optional<Stmt> insert_, update_;  // prepared on first use, on the writer thread
  std::atomic<std::uint64_t> rows_{0}, transactions_{0};
};

}  // namespace mpiply::detail
