#pragma once
// Queries over the task table, as ipyparallel's Client.db_query: MongoDB-style operators ($lt $gt
// $lte $gte $eq $ne $in $nin $exists) on the fields of a task record. Two spellings, both checked
// when they are written (an unknown field or operator is a UsageError naming the valid ones):
//   using mpiply::field;
//   auto q = field("status") == "ok" && field("engine_id").in({0, 2}) && field("completed") > t0;
//   auto q2 = mpiply::Query().where("status", "$eq", "ok").where("engine_id", "$in", {0, 2});
//   for (const mpiply::DbRecord& r : rc.db_query(q, {"engine_id", "completed"})) ... *r.engine_id
// A query is plain data (conditions on named fields), evaluated over TaskMetadata records by
// mpiply::matches, so a task database on disk can run the same query (or translate it to SQL).
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <mpiply/metadata.hpp>
#include <mpiply/time.hpp>

namespace mpiply {

// A field's value: absent (a time not yet stamped, no engine yet, no error), an integer, text
// or a time. Integers: msg_id, engine_id, rank, pid, thread, items, attempts, run (the task
// database's run id, docs/database.md). Text: status ("queued", "sent", "ok", "error",
// "aborted"), function, hostname, error. Times: submitted, started, completed, received.
using QueryValue = std::variant<std::monostate, long long, std::string, TimePoint>;

enum class QueryOp { lt, gt, lte, gte, eq, ne, in, nin, exists };

// One condition: record.field <op> operand(s). For $in/$nin, `values` holds the set; for
// $exists, `exists` says whether the field must be present.
struct QueryCondition {
  std::string field;
  QueryOp op = QueryOp::eq;
  std::vector<QueryValue> values;
  bool exists = true;
};

// The operand of a condition, from what reads naturally at the call site.
class QueryOperand {
 public:
  QueryOperand(int v) : v_(static_cast<long long>(v)) {}                 // NOLINT
  QueryOperand(long v) : v_(static_cast<long long>(v)) {}                // NOLINT
  QueryOperand(long long v) : v_(v) {}                                   // NOLINT
  QueryOperand(unsigned v) : v_(static_cast<long long>(v)) {}            // NOLINT
  QueryOperand(unsigned long v) : v_(static_cast<long long>(v)) {}       // NOLINT
  QueryOperand(unsigned long long v) : v_(static_cast<long long>(v)) {}  // NOLINT
  QueryOperand(const char* v) : v_(std::string(v)) {}                    // NOLINT
  QueryOperand(std::string v) : v_(std::move(v)) {}                      // NOLINT
  QueryOperand(TimePoint v) : v_(v) {}                                   // NOLINT
  QueryOperand(TaskStatus s) : v_(std::string(to_string(s))) {}         // NOLINT
  const QueryValue& value() const { return v_; }

 private:
  QueryValue v_;
};

template <class R>
std::vector<QueryOperand> operands_of(const R& r) {
  std::vector<QueryOperand> out;
  for (auto&& x : r) out.emplace_back(x);
  return out;
}

// A conjunction of conditions (every one must hold). The empty query matches every record.
class Query {
 public:
  Query() = default;
  // Mongo's spelling: where("completed", "$gt", t0). Checks field, operator and operand type.
  Query& where(std::string_view field, std::string_view op, QueryOperand operand);
  Query& where(std::string_view field, std::string_view op,
               std::initializer_list<QueryOperand> operands);
  // A set known at run time: where("msg_id", "$in", ar.msg_ids()), where("engine_id", "$nin", v).
  Query& where(std::string_view field, std::string_view op,
               const std::vector<QueryOperand>& operands);
  template <std::ranges::input_range R>
    requires(std::convertible_to<std::ranges::range_reference_t<const R&>, QueryOperand> &&
             !std::convertible_to<const R&, QueryOperand>)
  Query& where(std::string_view field, std::string_view op, const R& operands) {
    return where(field, op, operands_of(operands));
  }
  // Adds a checked condition.
  Query& add(QueryCondition c);
  const std::vector<QueryCondition>& conditions() const noexcept { return conds_; }

  friend Query operator&&(Query a, const Query& b) {
    for (const auto& c : b.conds_) a.conds_.push_back(c);
    return a;
  }

 private:
  std::vector<QueryCondition> conds_;
};

// field("name") starts a condition; the name is checked at once.
class QueryField {
 public:
  explicit QueryField(std::string_view name);
  Query operator<(QueryOperand v) const { return make(QueryOp::lt, {v}); }
  Query operator>(QueryOperand v) const { return make(QueryOp::gt, {v}); }
  Query operator<=(QueryOperand v) const { return make(QueryOp::lte, {v}); }
  Query operator>=(QueryOperand v) const { return make(QueryOp::gte, {v}); }
  Query operator==(QueryOperand v) const { return make(QueryOp::eq, {v}); }
  Query operator!=(QueryOperand v) const { return make(QueryOp::ne, {v}); }
  Query in(std::initializer_list<QueryOperand> vs) const { return make(QueryOp::in, vs); }
  Query nin(std::initializer_list<QueryOperand> vs) const { return make(QueryOp::nin, vs); }
  Query in(const std::vector<QueryOperand>& vs) const { return make(QueryOp::in, vs); }
  Query nin(const std::vector<QueryOperand>& vs) const { return make(QueryOp::nin, vs); }
  // Any container of operands: field("msg_id").in(ar.msg_ids()).
  template <std::ranges::input_range R>
    requires(std::convertible_to<std::ranges::range_reference_t<const R&>, QueryOperand> &&
             !std::convertible_to<const R&, QueryOperand>)
  Query in(const R& vs) const {
    return make(QueryOp::in, operands_of(vs));
  }
  template <std::ranges::input_range R>
    requires(std::convertible_to<std::ranges::range_reference_t<const R&>, QueryOperand> &&
             !std::convertible_to<const R&, QueryOperand>)
  Query nin(const R& vs) const {
    return make(QueryOp::nin, operands_of(vs));
  }
  Query exists(bool present = true) const;

 private:
  Query make(QueryOp op, std::vector<QueryOperand> vs) const;
  std::string name_;
};

inline QueryField field(std::string_view name) { return QueryField(name); }

// The fields a query may name, and the operators, as a UsageError lists them.
const std::vector<std::string>& query_fields();
const char* to_string(QueryOp op) noexcept;
// A field of a record as a query sees it (UsageError for an unknown name).
QueryValue field_value(const TaskMetadata& m, std::string_view field);
// Whether record m satisfies every condition of q.
bool matches(const Query& q, const TaskMetadata& m);
// A record as db_query(q, keys) returns it: the fields named in keys, every other one absent
// (std::nullopt), so a field that was not asked for is never mistaken for a value (status would
// otherwise read "queued", items 0). msg_id and run are always there. The times are also absent
// when the task has no such stamp; selected() tells the two apart. Empty keys select every
// field. "attempts" brings engines_tried with it.
struct DbRecord {
  MsgId msg_id = 0;
  std::int64_t run = 0;
  std::optional<int> engine_id;
  std::optional<TaskStatus> status;
  std::optional<std::string> function;
  std::optional<TimePoint> submitted, started, completed, received;
  std::optional<std::size_t> items;
  std::optional<std::string> error;
  std::optional<std::string> hostname;
  std::optional<long> pid;
  std::optional<int> rank;
  std::optional<int> thread;
  std::optional<int> attempts;
  std::optional<std::vector<int>> engines_tried;
  // The fields asked for, by their query names (every field when keys were empty).
  std::vector<std::string> keys;
  bool selected(std::string_view field) const;
};

// Keeps only the named fields of m (msg_id and run always stay); checks the names.
DbRecord project(const TaskMetadata& m, const std::vector<std::string>& keys);
void check_query_keys(const std::vector<std::string>& keys);

}  // namespace mpiply
