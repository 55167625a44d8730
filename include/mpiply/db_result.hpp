#pragma once
// Earlier runs in the task database (MPIPLY_DB / RunOptions::db, docs/database.md "Reading
// earlier runs"): how a task of another run is named (RecordId), what a run was (DbRun), and a
// finished task read back from the file (DbResult). Msg ids restart with every run, so a task in
// the file is the pair (run, msg id); the Client methods that use these are in client.hpp:
//   for (mpiply::RecordId r : rc.hub_history(mpiply::all_runs)) ...
//   mpiply::DbResult old = rc.get_result(mpiply::RecordId{2, 17});   // or RecordId::parse("2:17")
//   std::vector<double> v = old.get<double>();
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mpiply/detail/result_state.hpp>
#include <mpiply/detail/type_name.hpp>
#include <mpiply/metadata.hpp>

namespace mpiply {

// A task of any run recorded in the task database: the run's id (DbRun::id, TaskMetadata::run)
// and its msg id in that run. Written "run:msg" (to_string, parse), e.g. "2:17".
struct RecordId {
  std::int64_t run = 0;
  MsgId msg_id = 0;
  // "2:17" -> {2, 17}; anything else is a UsageError saying how to write one.
  static RecordId parse(std::string_view text);
  friend bool operator==(const RecordId&, const RecordId&) = default;
  friend auto operator<=>(const RecordId&, const RecordId&) = default;
};
std::string to_string(const RecordId& id);

// rc.hub_history(mpiply::all_runs): every run in the task database, not only this one.
struct AllRuns {};
inline constexpr AllRuns all_runs{};

// One run that wrote the task database (rc.db_runs()).
struct DbRun {
  std::int64_t id = 0;
  TimePoint started;
  std::optional<TimePoint> finished;  // absent: it never closed (crashed, killed) or is this run
  int ranks = 0;
  std::string hostname;
  long pid = 0;
  std::uint64_t tasks = 0, ok = 0, failed = 0, reused = 0;  // as committed to the file
  bool current = false;  // the run this client belongs to
};

namespace detail {
// What a DbResult holds: the task's metadata as recorded, its result bytes (per item: u8 status,
// u32 length, value or error) and the C++ type of its values ("" when the file cannot say).
struct DbRecordData {
  RecordId id;
  TaskMetadata meta;
  std::string type;
  std::string bytes;
};
// UsageError unless `type` (type_name<T>) is the values' type (src/taskdb/db_result.cpp).
void check_db_value_type(const DbRecordData& d, const std::string& type, const char* what);
// Decodes every item into st (values, or errors as the live result raised them).
void fill_db_state(ResultStateBase& st, const DbRecordData& d);
[[noreturn]] void throw_db_errors(const ResultStateBase& st);
}  // namespace detail

// A finished task of any run, read back from the task database by rc.get_result(RecordId):
// its metadata as recorded and its values, decoded from the stored bytes on each access with the
// same code as a live result. Cheap to copy (shares the bytes). Independent of the file once made.
class DbResult {
 public:
  explicit DbResult(std::shared_ptr<const detail::DbRecordData> d) : d_(std::move(d)) {}
  RecordId id() const noexcept { return d_->id; }
  // As recorded: run, msg id, status, function, engine, host, pid, thread, times, items, error,
  // reused; attempts is -1 (not recorded), stdout/stderr and usage are empty.
  const TaskMetadata& metadata() const noexcept { return d_->meta; }
  TaskStatus status() const noexcept { return d_->meta.status; }
  bool successful() const noexcept { return d_->meta.status == TaskStatus::ok; }
  const std::string& function() const noexcept { return d_->meta.function; }
  // The C++ type of the values, e.g. "double" (get<T> must ask for exactly this type); "" for a
  // push, pull or clear, whose value type the file does not record.
  const std::string& type_name() const noexcept { return d_->type; }
  std::size_t size() const noexcept { return d_->meta.items; }  // items (a map chunk's, or 1)
  std::size_t result_bytes() const noexcept { return d_->bytes.size(); }

  // Every item's value. A failed item raises as AsyncMapResult::get does (CompositeError);
  // UsageError if T is not the values' type.
  template <class T>
  std::vector<T> get() const {
    auto st = decode<T>("DbResult::get");
    if (!st->errors.empty()) detail::throw_db_errors(*st);
    std::vector<T> out;
    out.reserve(st->values.size());
    for (auto& v : st->values) out.push_back(std::move(*v));
    return out;
  }
  // Item i's value; raises its error (RemoteError or the subclass it is) if it failed.
  template <class T>
  T value(std::size_t i = 0) const {
    auto st = decode<T>("DbResult::value");
    if (i >= st->nitems)
      throw UsageError("DbResult::value: item " + std::to_string(i) + " of a task of " +
                       std::to_string(st->nitems) + " items");
    if (!st->values[i])
      for (const auto& e : st->errors)
        if (e.index == i) e.error.raise();
    return std::move(*st->values[i]);
  }

 private:
  template <class T>
  std::shared_ptr<detail::ResultState<T>> decode(const char* what) const {
    detail::check_db_value_type(*d_, detail::type_name<T>(), what);
    auto st = std::make_shared<detail::ResultState<T>>(nullptr, d_->meta.function, d_->meta.items);
    detail::fill_db_state(*st, *d_);
    return st;
  }
  std::shared_ptr<const detail::DbRecordData> d_;
};

}  // namespace mpiply
