// Evaluating Mongo-style queries over task records (query.hpp). Conditions are checked when they
// are written: the field must exist and the operand must have the field's kind, so a query that
// could never match because of a typo fails loudly instead of returning nothing. Comparisons put
// the record's value on the left: {"completed": {"$gt": t}} means completed > t (ipyparallel's
// in-memory backend has them the other way round), and every condition must hold, however many
// name equality (the same backend returns nothing for two equality keys).
#include <mpiply/query.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mpiply {

namespace {

enum class Kind { integer, text, time };

struct FieldInfo {
  const char* name;
  Kind kind;
};

constexpr FieldInfo kFields[] = {
    {"msg_id", Kind::integer},   {"engine_id", Kind::integer}, {"status", Kind::text},
    {"function", Kind::text},    {"submitted", Kind::time},    {"started", Kind::time},
    {"completed", Kind::time},   {"received", Kind::time},     {"items", Kind::integer},
    {"error", Kind::text},       {"hostname", Kind::text},     {"pid", Kind::integer},
    {"rank", Kind::integer},     {"thread", Kind::integer},    {"attempts", Kind::integer},
    {"run", Kind::integer},
};

struct OpInfo {
  const char* name;
  QueryOp op;
};
constexpr OpInfo kOps[] = {{"$lt", QueryOp::lt},   {"$gt", QueryOp::gt},   {"$lte", QueryOp::lte},
                           {"$gte", QueryOp::gte}, {"$eq", QueryOp::eq},   {"$ne", QueryOp::ne},
                           {"$in", QueryOp::in},   {"$nin", QueryOp::nin}, {"$exists", QueryOp::exists}};

const FieldInfo& field_info(std::string_view name) {
  for (const auto& f : kFields)
    if (name == f.name) return f;
  throw UsageError(fmt::format("db_query: no record field is called '{}'; the fields are {}", name,
                               fmt::join(query_fields(), ", ")));
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::integer: return "an integer";
    case Kind::text: return "text";
    case Kind::time: return "a time (mpiply::TimePoint)";
  }
  return "?";
}

void check_operand(const FieldInfo& f, const QueryValue& v) {
  bool ok = (f.kind == Kind::integer && std::holds_alternative<long long>(v)) ||
            (f.kind == Kind::text && std::holds_alternative<std::string>(v)) ||
            (f.kind == Kind::time && std::holds_alternative<TimePoint>(v));
  if (!ok)
    throw UsageError(fmt::format("db_query: field '{}' is {}; it cannot be compared with {}",
                                 f.name, kind_name(f.kind),
                                 std::holds_alternative<long long>(v)     ? "an integer"
                                 : std::holds_alternative<std::string>(v) ? "text"
                                                                          : "a time"));
  if (std::string_view(f.name) == "status") {
    const auto& s = std::get<std::string>(v);
    static const char* kStatuses[] = {"queued", "sent", "ok", "error", "aborted"};
    if (std::none_of(std::begin(kStatuses), std::end(kStatuses),
                     [&](const char* x) { return s == x; }))
      throw UsageError(fmt::format("db_query: '{}' is not a status; a status is one of {}", s,
                                   fmt::join(kStatuses, ", ")));
  }
}

// -1, 0, 1; both present and of the same kind (checked when the query was made).
int compare(const QueryValue& a, const QueryValue& b) {
  return std::visit(
      [&](const auto& x) -> int {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::monostate>) {
          return 0;
        } else {
          const X& y = std::get<X>(b);
          return x < y ? -1 : (y < x ? 1 : 0);
        }
      },
      a);
}

bool holds(const QueryCondition& c, const QueryValue& v) {
  bool present = !std::holds_alternative<std::monostate>(v);
  auto in_set = [&] {
    return present && std::any_of(c.values.begin(), c.values.end(),
                                  [&](const QueryValue& x) { return compare(v, x) == 0; });
  };
  switch (c.op) {
    case QueryOp::exists: return present == c.exists;
    case QueryOp::in: return in_set();
    case QueryOp::nin: return !in_set();
    case QueryOp::ne: return !present || compare(v, c.values.at(0)) != 0;
    default: break;
  }
  if (!present) return false;  // an absent value is not less, greater or equal to anything
  int r = compare(v, c.values.at(0));  // the record's value on the left
  switch (c.op) {
    case QueryOp::lt: return r < 0;
    case QueryOp::gt: return r > 0;
    case QueryOp::lte: return r <= 0;
    case QueryOp::gte: return r >= 0;
    case QueryOp::eq: return r == 0;
    default: return false;
  }
}

}  // namespace

const std::vector<std::string>& query_fields() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& f : kFields) v.emplace_back(f.name);
    return v;
  }();
  return names;
}

const char* to_string(QueryOp op) noexcept {
  for (const auto& o : kOps)
    if (o.op == op) return o.name;
  return "?";
}

Query& Query::add(QueryCondition c) {
  const FieldInfo& f = field_info(c.field);
  if (c.op != QueryOp::exists) {
    if (c.values.empty())
      throw UsageError(fmt::format("db_query: {} on '{}' needs a value", to_string(c.op), c.field));
    if ((c.op != QueryOp::in && c.op != QueryOp::nin) && c.values.size() != 1)
      throw UsageError(fmt::format("db_query: {} on '{}' takes one value, not {}; use $in for "
                                   "a set",
                                   to_string(c.op), c.field, c.values.size()));
    for (const auto& v : c.values) check_operand(f, v);
  }
  conds_.push_back(std::move(c));
  return *this;
}

Query& Query::where(std::string_view field, std::string_view op, QueryOperand operand) {
  return where(field, op, {operand});
}

Query& Query::where(std::string_view field, std::string_view op,
                    std::initializer_list<QueryOperand> operands) {
  return where(field, op, std::vector<QueryOperand>(operands));
}

Query& Query::where(std::string_view field, std::string_view op,
                    const std::vector<QueryOperand>& operands) {
  field_info(field);
  const OpInfo* found = nullptr;
  for (const auto& o : kOps)
    if (op == o.name) found = &o;
  if (!found) {
    std::vector<std::string> names;
    for (const auto& o : kOps) names.emplace_back(o.name);
    throw UsageError(fmt::format("db_query: '{}' is not an operator; the operators are {}", op,
                                 fmt::join(names, " ")));
  }
  QueryCondition c;
  c.field = std::string(field);
  c.op = found->op;
  if (c.op == QueryOp::exists) {
    if (operands.size() != 1 || !std::holds_alternative<long long>(operands.begin()->value()))
      throw UsageError(fmt::format("db_query: $exists on '{}' takes true or false (1 or 0)",
                                   field));
    c.exists = std::get<long long>(operands.begin()->value()) != 0;
  } else {
    for (const auto& o : operands) c.values.push_back(o.value());
  }
  return add(std::move(c));
}

QueryField::QueryField(std::string_view name) : name_(field_info(name).name) {}

Query QueryField::make(QueryOp op, std::vector<QueryOperand> vs) const {
  QueryCondition c;
  c.field = name_;
  c.op = op;
  for (const auto& v : vs) c.values.push_back(v.value());
  Query q;
  q.add(std::move(c));
  return q;
}

Query QueryField::exists(bool present) const {
  QueryCondition c;
  c.field = name_;
  c.op = QueryOp::exists;
  c.exists = present;
  Query q;
  q.add(std::move(c));
  return q;
}

QueryValue field_value(const TaskMetadata& m, std::string_view field) {
  auto time = [](const std::optional<TimePoint>& t) -> QueryValue {
    if (t) return *t;
    return std::monostate{};
  };
  auto text = [](const std::string& s) -> QueryValue {
    if (s.empty()) return std::monostate{};
    return s;
  };
  auto non_negative = [](long long v) -> QueryValue {
    if (v < 0) return std::monostate{};
    return v;
  };
  const FieldInfo& f = field_info(field);
  std::string_view n = f.name;
  if (n == "msg_id") return static_cast<long long>(m.msg_id);
  if (n == "engine_id") return non_negative(m.engine_id);
  if (n == "status") return std::string(to_string(m.status));
  if (n == "function") return text(m.function);
  if (n == "submitted") return time(m.submitted);
  if (n == "started") return time(m.started);
  if (n == "completed") return time(m.completed);
  if (n == "received") return time(m.received);
  if (n == "items") return static_cast<long long>(m.items);
  if (n == "error") return text(m.error);
  if (n == "hostname") return text(m.hostname);
  if (n == "pid") return m.pid > 0 ? QueryValue(static_cast<long long>(m.pid)) : QueryValue();
  if (n == "rank") return non_negative(m.rank);
  if (n == "attempts") return non_negative(m.attempts);  // -1: a record read from the file
  if (n == "run") return static_cast<long long>(m.run);
  return m.engine_id < 0 ? QueryValue() : QueryValue(static_cast<long long>(m.thread));  // thread
}

bool matches(const Query& q, const TaskMetadata& m) {
  return std::all_of(q.conditions().begin(), q.conditions().end(),
                     [&](const QueryCondition& c) { return holds(c, field_value(m, c.field)); });
}

void check_query_keys(const std::vector<std::string>& keys) {
  for (const auto& k : keys) field_info(k);
}

DbRecord project(const TaskMetadata& m, const std::vector<std::string>& keys) {
  DbRecord out;
  out.msg_id = m.msg_id;
  out.run = m.run;
  const std::vector<std::string>& names = keys.empty() ? query_fields() : keys;
  for (const auto& k : names) {
    std::string_view n = field_info(k).name;
    if (std::find(out.keys.begin(), out.keys.end(), n) == out.keys.end())
      out.keys.emplace_back(n);
    if (n == "engine_id") out.engine_id = m.engine_id;
    else if (n == "status") out.status = m.status;
    else if (n == "function") out.function = m.function;
    else if (n == "submitted") out.submitted = m.submitted;
    else if (n == "started") out.started = m.started;
    else if (n == "completed") out.completed = m.completed;
    else if (n == "received") out.received = m.received;
    else if (n == "items") out.items = m.items;
    else if (n == "error") out.error = m.error;
    else if (n == "hostname") out.hostname = m.hostname;
    else if (n == "pid") out.pid = m.pid;
    else if (n == "rank") out.rank = m.rank;
    else if (n == "thread") out.thread = m.thread;
    else if (n == "attempts") {
      out.attempts = m.attempts;
      out.engines_tried = m.engines_tried;
    }
  }
  return out;
}

bool DbRecord::selected(std::string_view field) const {
  return field == "msg_id" || field == "run" ||
         std::find(keys.begin(), keys.end(), field) != keys.end();
}

}  // namespace mpiply
