#pragma once
// Queries over the task table, as ipyparallel's Client.db_query: MongoDB-style operators ($lt $gt
// $lte $gte $eq $ne $in $nin $exists) on the fields of a task record. Two spellings, both checked
// when they are written (an unknown field or operator is a UsageError naming the valid ones):
//   using mpiply::field;
//   auto q = field("status") == "ok" && field("engine_id").in({0, 2}) && field("completed") > t0;
//   auto q2 = mpiply::Query().where("status", "$eq", "ok").where("engine_id", "$in", {0, 2});
//   for (const mpiply::TaskMetadata& m : rc.db_query(q, {"engine_id", "completed"})) ...
// A query is plain data (conditions on named fields), evaluated over TaskMetadata records by
// mpiply::matches, so a task database on disk can run the same query (or translate it to SQL).
#include <initializer_list>
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

// A conjunction of conditions (every one must hold). The empty query matches every record.
class Query {
 public:
  Query() = default;
  // Mongo's spelling: where("completed", "$gt", t0). Checks field, operator and operand type.
  Query& where(std::string_view field, std::string_view op, QueryOperand operand);
  Query& where(std::string_view field, std::string_view op,
               std::initializer_list<QueryOperand> operands);
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
// Keeps only the named fields of m (msg_id and run always stay); checks the names.
TaskMetadata project(const TaskMetadata& m, const std::vector<std::string>& keys);
void check_query_keys(const std::vector<std::string>& keys);

}  // namespace mpiply
