#pragma once
// db_query over the task database: a Query (query.hpp) run over the stored records, one packed
// row in memory at a time. The conditions SQL can decide per row from its columns (run, msg
// range, status counts, the names in its strings blob, the run's start and end) skip whole rows
// before they are read; every record of the rows read is then matched in C++ by mpiply::matches,
// so the pushdown only ever saves work and never changes the answer.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <mpiply/metadata.hpp>
#include <mpiply/query.hpp>

#include "taskdb/task_db.hpp"

struct sqlite3;

namespace mpiply::detail {

// The metadata of a stored record as db_query and get_result give it. ranks: the run's (for the
// MPI rank of its engine; 0 = unknown, then engine + 1).
TaskMetadata row_metadata(const TaskRow& r, std::int64_t run, int ranks);

// The WHERE clause of the row pre-filter for q, with its parameters in order (integers, or
// blobs when `blob` is set). exclude_run > 0 leaves that run out. Public for tests.
struct RowFilter {
  std::string where;  // "1" when nothing can be pushed down
  struct Param {
    std::int64_t number = 0;
    std::string blob;
    bool is_blob = false;
  };
  std::vector<Param> params;
};
RowFilter row_filter(const Query& q, std::int64_t exclude_run);

// Calls fn with every stored record that matches q (exclude_run's left out), in commit order
// within each run and runs in id order; the rows read are counted in *rows_read when given.
void db_query_rows(sqlite3* db, const Query& q, std::int64_t exclude_run,
                   const std::function<void(const TaskMetadata&)>& fn,
                   std::uint64_t* rows_read = nullptr);

// The result bytes of the latest successful, not reused record of `function` with `key` in runs
// up to `max_run` (what a reused record's values are). Reads the meta of every such row.
std::optional<std::string> db_original_result(sqlite3* db, std::string_view function,
                                              const ResumeKey& key, std::int64_t max_run);

}  // namespace mpiply::detail
