// Building and asking resume's index of earlier runs (resume_index.hpp).
#include "taskdb/resume_index.hpp"

#include <unordered_map>

#include <sqlite3.h>

#include "taskdb/checksum.hpp"
#include "taskdb/shared_connection.hpp"
#include "taskdb/sqlite_util.hpp"
#include "taskdb/task_db_block.hpp"
#include "taskdb/task_db_schema.hpp"

namespace mpiply::detail {

void ResumeIndex::load() {
  // Only rows with successes are read, and only their strings and meta blobs. A row whose
  // checksum does not match, or that does not decode, costs its own tasks (they run again),
  // never the job.
  auto lk = conn_.lock();
  Stmt s(conn_.handle(),
         "SELECT id, strings, meta, checksum, n_ok - n_reused FROM blocks "
         "WHERE n_ok > n_reused ORDER BY id");
  std::unordered_map<std::string, std::uint32_t> names;
  auto name_id = [&](std::string_view n) {
    auto [it, added] = names.try_emplace(std::string(n), std::uint32_t(names_.size()));
    if (added) names_.emplace_back(n);
    return it->second;
  };
  while (s.step()) {
    std::int64_t block = s.int64(0);
    auto ok_tasks = static_cast<std::uint64_t>(s.int64(4));
    RowCheck check = check_row(!s.null(3), s.int64(3), s.blob(1), s.blob(2));
    if (check == RowCheck::unchecked) {
      refused_.unchecked += ok_tasks;
      continue;
    }
    std::size_t before = index_.size();
    try {
      if (check == RowCheck::damaged) throw ValueDecodeError("checksum mismatch");
      decode_block(s.blob(1), s.blob(2), {},
                   [&](const TaskRow& r, std::uint64_t off, std::uint64_t len) {
                     if (r.status != TaskStatus::ok || r.reused) return;
                     index_.push_back({r.key, block, off, len, r.result_sum, r.msg_id,
                                       static_cast<std::uint32_t>(r.items),
                                       name_id(r.function), name_id(r.code)});
                   });
    } catch (const ValueDecodeError&) {
      index_.resize(before);
      refused_.damaged_rows += ok_tasks;
    }
  }
  index_.shrink_to_fit();
  if (index_.size() >= 0xffffffffu)
    throw_db_error(conn_.path(), "holds more successful tasks than one resume index can (2^32)",
                   "Pass another database path");
  std::size_t cap = 16;
  while (cap < index_.size() * 2) cap *= 2;
  slots_.assign(cap, 0);
  std::size_t mask = cap - 1;
  // Rows are read in commit order, so of equal keys (a task run again) the latest wins.
  for (std::size_t i = 0; i < index_.size(); ++i) {
    for (std::size_t at = index_[i].key.hi & mask;; at = (at + 1) & mask) {
      if (slots_[at] == 0) {
        slots_[at] = static_cast<std::uint32_t>(i + 1);
        ++distinct_;
        break;
      }
      if (index_[slots_[at] - 1].key == index_[i].key) {
        slots_[at] = static_cast<std::uint32_t>(i + 1);
        break;
      }
    }
  }
}

const ResumeIndex::Entry* ResumeIndex::find(const ResumeKey& key) const {
  if (index_.empty()) return nullptr;
  std::size_t mask = slots_.size() - 1;
  for (std::size_t at = key.hi & mask; slots_[at] != 0; at = (at + 1) & mask)
    if (index_[slots_[at] - 1].key == key) return &index_[slots_[at] - 1];
  return nullptr;
}

std::optional<Reusable> ResumeIndex::lookup(std::string_view function, const ResumeKey& key,
                                            std::string_view code, bool any_build) {
  Refusal why = Refusal::none;
  std::optional<Reusable> out = fetch(function, key, code, any_build, why);
  std::lock_guard lk(mu_);
  if (out) ++reused_;
  switch (why) {
    case Refusal::checksum: ++refused_.checksum; break;
    case Refusal::truncated: ++refused_.truncated; break;
    case Refusal::build_changed: ++refused_.build_changed; break;
    case Refusal::none:
    case Refusal::missing: break;
  }
  return out;
}

std::optional<std::string> ResumeIndex::stored_result(std::string_view function,
                                                      const ResumeKey& key) {
  Refusal why = Refusal::none;
  if (std::optional<Reusable> hit = fetch(function, key, {}, true, why))
    return std::move(hit->result);
  return std::nullopt;
}

std::optional<Reusable> ResumeIndex::fetch(std::string_view function, const ResumeKey& key,
                                           std::string_view code, bool any_build, Refusal& why) {
  why = Refusal::missing;
  const Entry* it = find(key);
  if (!it || names_[it->function] != function) return std::nullopt;
  if (!any_build && names_[it->code] != code) {
    why = Refusal::build_changed;
    return std::nullopt;
  }
  Reusable out;
  {
    auto lk = conn_.lock();
    sqlite3* db = conn_.handle();
    if (!db) return std::nullopt;
    if (cached_block_ != it->block) {
      try {
        Stmt s(db, "SELECT run, results FROM blocks WHERE id = ?");
        s.bind(1, it->block);
        if (!s.step()) return std::nullopt;
        cached_run_ = s.int64(0);
        cached_results_.assign(s.blob(1));
        cached_block_ = it->block;
      } catch (const std::exception& e) {
        rethrow_db_failure(conn_.path(), e, "reading a stored result");
      }
    }
    // A damaged row costs the tasks it holds (they run again), never the job.
    if (it->offset > cached_results_.size() || it->length > cached_results_.size() - it->offset) {
      why = Refusal::truncated;
      return std::nullopt;
    }
    std::string_view bytes(cached_results_.data() + it->offset, it->length);
    if (result_checksum(bytes) != it->sum) {
      why = Refusal::checksum;
      return std::nullopt;
    }
    out.run = cached_run_;
    out.result.assign(bytes);
  }
  out.msg_id = it->msg_id;
  out.items = it->items;
  why = Refusal::none;
  return out;
}

ReuseRefusals ResumeIndex::refusals() const {
  std::lock_guard lk(mu_);
  return refused_;
}

std::uint64_t ResumeIndex::reused() const {
  std::lock_guard lk(mu_);
  return reused_;
}

}  // namespace mpiply::detail
