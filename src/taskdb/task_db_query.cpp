// db_query over the stored records (task_db_query.hpp): the row pre-filter SQL can evaluate,
// then each record of the rows read matched in C++.
#include "taskdb/task_db_query.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sqlite3.h>

#include "taskdb/sqlite_util.hpp"
#include "taskdb/task_db_block.hpp"
#include "taskdb/task_db_read.hpp"

namespace mpiply::detail {

namespace {

// A record's times lie within its run's [started_ns, finished_ns] on rank 0's clock; engines'
// stamps are aligned to it within far less than this, which the time pre-filter allows for.
constexpr std::int64_t kTimeSlackNs = 60'000'000'000;

constexpr const char* kStatuses[] = {"queued", "sent", "ok", "error", "aborted"};

std::int64_t ns_of(const TimePoint& t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

struct Builder {
  RowFilter f;
  std::vector<std::string> clauses;

  std::string num(std::int64_t v) {
    f.params.push_back({v, {}, false});
    return "?";
  }
  std::string blob(const std::string& b) {
    f.params.push_back({0, b, true});
    return "?";
  }
  void add(std::string c) { clauses.push_back(std::move(c)); }
};

const char* sql_op(QueryOp op) {
  switch (op) {
    case QueryOp::lt: return "<";
    case QueryOp::gt: return ">";
    case QueryOp::lte: return "<=";
    case QueryOp::gte: return ">=";
    case QueryOp::eq: return "=";
    case QueryOp::ne: return "<>";
    default: return nullptr;
  }
}

long long int_of(const QueryValue& v) { return std::get<long long>(v); }

// The statuses a condition on `status` can match (nullopt: cannot tell, e.g. $lt on text).
std::optional<std::set<std::string>> statuses(const QueryCondition& c) {
  std::set<std::string> all(std::begin(kStatuses), std::end(kStatuses)), named;
  for (const auto& v : c.values) named.insert(std::get<std::string>(v));
  switch (c.op) {
    case QueryOp::eq:
    case QueryOp::in: return named;
    case QueryOp::ne:
    case QueryOp::nin: {
      std::set<std::string> out;
      for (const auto& s : all)
        if (!named.count(s)) out.insert(s);
      return out;
    }
    case QueryOp::exists: return c.exists ? all : std::set<std::string>{};
    default: return std::nullopt;
  }
}

// Whether the condition can only hold for a present value (every operator but $ne, $nin and
// $exists false).
bool needs_presence(const QueryCondition& c) {
  if (c.op == QueryOp::exists) return c.exists;
  return c.op != QueryOp::ne && c.op != QueryOp::nin;
}

void push_down(Builder& b, const QueryCondition& c) {
  const std::string& n = c.field;
  if (c.op == QueryOp::exists && !c.exists &&
      (n == "run" || n == "msg_id" || n == "status" || n == "items")) {
    b.add("0");  // always present in a stored record
    return;
  }
  if (n == "run") {
    if (const char* op = sql_op(c.op)) {
      b.add(fmt::format("run {} {}", op, b.num(int_of(c.values[0]))));
    } else if (c.op == QueryOp::in || c.op == QueryOp::nin) {
      std::string list;
      for (const auto& v : c.values) list += (list.empty() ? "" : ", ") + b.num(int_of(v));
      b.add(fmt::format("run {}IN ({})", c.op == QueryOp::nin ? "NOT " : "", list));
    }
  } else if (n == "msg_id") {
    // A row holds the msg ids min_msg..max_msg, with gaps.
    if (c.op == QueryOp::eq) {
      auto v = int_of(c.values[0]);
      std::string p1 = b.num(v), p2 = b.num(v);  // in order: parameters bind by position
      b.add(fmt::format("min_msg <= {} AND max_msg >= {}", p1, p2));
    } else if (c.op == QueryOp::lt || c.op == QueryOp::lte) {
      b.add(fmt::format("min_msg {} {}", sql_op(c.op), b.num(int_of(c.values[0]))));
    } else if (c.op == QueryOp::gt || c.op == QueryOp::gte) {
      b.add(fmt::format("max_msg {} {}", sql_op(c.op), b.num(int_of(c.values[0]))));
    } else if (c.op == QueryOp::in) {
      long long lo = int_of(c.values[0]), hi = lo;
      for (const auto& v : c.values) {
        lo = std::min(lo, int_of(v));
        hi = std::max(hi, int_of(v));
      }
      std::string p1 = b.num(hi), p2 = b.num(lo);
      b.add(fmt::format("min_msg <= {} AND max_msg >= {}", p1, p2));
    }
  } else if (n == "status") {
    auto set = statuses(c);
    if (!set) return;
    std::vector<std::string> any;
    if (set->count("ok")) any.emplace_back("n_ok > 0");
    if (set->count("error") || set->count("aborted")) any.emplace_back("n_failed > 0");
    if (set->count("queued") || set->count("sent")) any.emplace_back("count > n_ok + n_failed");
    b.add(any.empty() ? std::string("0") : "(" + fmt::format("{}", fmt::join(any, " OR ")) + ")");
  } else if (n == "error") {
    // Only a task that did not succeed has an error text.
    if (needs_presence(c)) b.add("count > n_ok");
  } else if (n == "function" || n == "hostname") {
    // The row's strings blob holds every function and host name of its records.
    if (c.op == QueryOp::eq || c.op == QueryOp::in) {
      std::vector<std::string> any;
      for (const auto& v : c.values)
        any.push_back(fmt::format("instr(strings, {}) > 0", b.blob(std::get<std::string>(v))));
      b.add("(" + fmt::format("{}", fmt::join(any, " OR ")) + ")");
    }
  } else if (n == "submitted" || n == "started" || n == "completed" || n == "received") {
    if (c.op == QueryOp::lt || c.op == QueryOp::lte || c.op == QueryOp::eq)
      b.add(fmt::format("run IN (SELECT id FROM runs WHERE started_ns <= {})",
                        b.num(ns_of(std::get<TimePoint>(c.values[0])) + kTimeSlackNs)));
    if (c.op == QueryOp::gt || c.op == QueryOp::gte || c.op == QueryOp::eq)
      b.add(fmt::format(
          "run IN (SELECT id FROM runs WHERE finished_ns IS NULL OR finished_ns >= {})",
          b.num(ns_of(std::get<TimePoint>(c.values[0])) - kTimeSlackNs)));
  } else if (n == "attempts") {
    // Not recorded: absent in every stored record.
    if (needs_presence(c)) b.add("0");
  }
}

}  // namespace

TaskMetadata row_metadata(const TaskRow& r, std::int64_t run, int ranks) {
  TaskMetadata m;
  m.msg_id = r.msg_id;
  m.run = run;
  m.engine_id = r.engine;
  m.status = r.status;
  m.function = r.function;
  auto stamp = [](std::int64_t ns) -> std::optional<TimePoint> {
    if (ns == 0) return std::nullopt;
    return TimePoint(std::chrono::duration_cast<WallClock::duration>(std::chrono::nanoseconds(ns)));
  };
  m.submitted = stamp(r.submitted);
  m.started = stamp(r.started);
  m.completed = stamp(r.completed);
  m.received = stamp(r.received);
  // Engine i is rank i + 1, except rank 0's own engine: the inline one (one rank) or the last id
  // with client_runs_tasks (ids reach ranks - 1 only then).
  if (r.engine < 0) m.rank = -1;
  else if (ranks == 1 || (ranks > 1 && r.engine == ranks - 1)) m.rank = 0;
  else m.rank = r.engine + 1;
  m.hostname = r.hostname;
  m.pid = static_cast<long>(r.pid);
  m.thread = static_cast<int>(r.thread);
  m.items = r.items;
  m.error = r.error;
  m.reused = r.reused;
  m.attempts = -1;  // not recorded
  return m;
}

RowFilter row_filter(const Query& q, std::int64_t exclude_run) {
  Builder b;
  if (exclude_run > 0) b.add(fmt::format("run <> {}", b.num(exclude_run)));
  for (const QueryCondition& c : q.conditions()) push_down(b, c);
  b.f.where = b.clauses.empty() ? std::string("1")
                                : fmt::format("{}", fmt::join(b.clauses, " AND "));
  return std::move(b.f);
}

void db_query_rows(sqlite3* db, const Query& q, std::int64_t exclude_run,
                   const std::function<void(const TaskMetadata&)>& fn, std::uint64_t* rows_read) {
  std::map<std::int64_t, int> ranks;
  {
    Stmt s(db, "SELECT id, ranks FROM runs");
    while (s.step()) ranks[s.int64(0)] = static_cast<int>(s.int64(1));
  }
  RowFilter f = row_filter(q, exclude_run);
  // Not the results blob: error texts are in meta, values are read by get_result.
  std::string sql = "SELECT run, strings, meta, checksum, id, count FROM blocks WHERE " +
                    f.where + " ORDER BY id";
  Stmt s(db, sql.c_str());
  for (std::size_t i = 0; i < f.params.size(); ++i) {
    int at = static_cast<int>(i + 1);
    if (f.params[i].is_blob) s.bind_blob(at, f.params[i].blob);
    else s.bind(at, f.params[i].number);
  }
  while (s.step()) {
    if (rows_read) ++*rows_read;
    std::int64_t run = s.int64(0);
    auto it = ranks.find(run);
    int nranks = it == ranks.end() ? 0 : it->second;
    // A damaged row's records cannot be trusted, metadata included: they are left out, with a
    // line saying so, and the rest of the query stands.
    if (check_row(!s.null(3), s.int64(3), s.blob(1), s.blob(2)) == RowCheck::damaged) {
      report_damaged_row(s.int64(4), s.int64(5), "db_query");
      continue;
    }
    decode_block(s.blob(1), s.blob(2), {}, [&](const TaskRow& r, std::uint64_t, std::uint64_t) {
      TaskMetadata m = row_metadata(r, run, nranks);
      if (matches(q, m)) fn(m);
    });
  }
}

std::optional<std::string> db_original_result(sqlite3* db, std::string_view function,
                                              const ResumeKey& key, std::int64_t max_run) {
  Stmt s(db,
         "SELECT id, strings, meta, checksum FROM blocks WHERE run <= ? AND n_ok > n_reused "
         "ORDER BY id DESC");
  s.bind(1, max_run);
  while (s.step()) {
    if (check_row(!s.null(3), s.int64(3), s.blob(1), s.blob(2)) != RowCheck::ok) continue;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> at;
    std::uint64_t sum = 0;
    decode_block(s.blob(1), s.blob(2), {},
                 [&](const TaskRow& r, std::uint64_t off, std::uint64_t len) {
                   if (r.status == TaskStatus::ok && !r.reused && r.key == key &&
                       r.function == function) {
                     at = {off, len};  // the last of the row: the latest
                     sum = r.result_sum;
                   }
                 });
    if (!at) continue;
    Stmt b(db, "SELECT substr(results, ?, ?) FROM blocks WHERE id = ?");
    b.bind(1, static_cast<std::int64_t>(at->first + 1))
        .bind(2, static_cast<std::int64_t>(at->second))
        .bind(3, s.int64(0));
    if (!b.step()) return std::nullopt;
    TaskRow r;
    r.result = {b.blob(0).data(), b.blob(0).size()};
    r.result_sum = sum;
    if (!result_intact(r))
      throw ValueDecodeError("the stored result a reused record points to does not match its "
                        "checksum (the file was changed or damaged on disk); its value is not "
                        "returned");
    return std::string(b.blob(0));
  }
  return std::nullopt;
}

}  // namespace mpiply::detail
