// Runs one task message on an engine: calls, pushes, pulls, clears. Whatever goes wrong with one
// task, including a message that does not decode, becomes error items in that task's result; the
// engine keeps serving and rank 0 fails only that task.
#include "executor/executor.hpp"

#include <cxxabi.h>

#include <algorithm>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/type_name.hpp>
#include <mpiply/detail/wire.hpp>

#include <sys/resource.h>

#include "support/clock.hpp"
#include "executor/crash_report.hpp"
#include "executor/push_entry.hpp"
#include "executor/task_grant.hpp"
#include "executor/team_comm.hpp"
#include "executor/engine_payload.hpp"
#include "executor/output_capture.hpp"
#include "executor/published_data.hpp"
#include "wire/result_codec.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

namespace {

struct Failure {
  ErrorKind kind;
  std::string ename, evalue;
};

// The exception being handled, as an error item says it. ValueDecodeError means the message (or a
// value in it) did not decode: that is its own kind, so rank 0 raises MessageDecodeError.
Failure current_failure() {
  try {
    throw;
  } catch (const ValueDecodeError& e) {
    return {ErrorKind::decode, demangle(typeid(e).name()), e.what()};
  } catch (const std::exception& e) {
    return {ErrorKind::raised, demangle(typeid(e).name()), e.what()};
  } catch (...) {
    std::type_info* t = abi::__cxa_current_exception_type();
    return {ErrorKind::raised, t ? demangle(t->name()) : "unknown",
            "(a value that is not a std::exception was thrown)"};
  }
}

// The team of the call running on this thread, if it is a team member: its error says which.
struct TeamNote {
  std::uint32_t rank, size;
  int engine;
  bool root_only;  // kRunTeamRoot: a member of rank > 0 sends no value back
};
thread_local const TeamNote* t_team = nullptr;

// Writes one result item: status, length, then what body() writes, or the exception it raised.
template <class Body>
void run_item(Writer& w, Body&& body) {
  std::size_t at = begin_item(w);
  try {
    body();
    // Only team rank 0's value is wanted: the others' is dropped here, not sent to rank 0.
    if (t_team && t_team->root_only && t_team->rank != 0)
      w.truncate(at + sizeof(std::uint8_t) + sizeof(std::uint32_t));
    end_item(w, at);
    return;
  } catch (...) {
    Failure f = current_failure();
    if (t_team)
      f.evalue = fmt::format("team member of rank {} of {} (engine {}) raised: {}", t_team->rank,
                             t_team->size, t_team->engine, f.evalue);
    write_error_item(w, at, f.kind, f.ename, f.evalue);
  }
}

void run_calls(Engine& eng, const TaskHeader& h, Reader& r, Writer& w) {
  const FunctionEntry* fe = find_by_id(h.fn_id);
  TaskNote note(fe ? fe->name.c_str() : "(unregistered function)", h.msg_id);  // for a crash
  std::string broken;  // set once an item's framing failed: the items after it cannot be found
  for (std::uint32_t i = 0; i < h.nitems; ++i) {
    if (!broken.empty()) {
      write_error_item(w, ErrorKind::decode, "mpiply::ValueDecodeError",
                       fmt::format("item {} of the chunk was not run: {}", i, broken));
      continue;
    }
    std::optional<Reader> item;
    try {
      item.emplace(r.sub(r.u32()));
    } catch (const ValueDecodeError& e) {
      broken = fmt::format("item {} could not be read ({})", i, e.what());
      write_error_item(w, ErrorKind::decode, "mpiply::ValueDecodeError", broken);
      continue;
    }
    run_item(w, [&] {
      if (!fe)
        throw UsageError(fmt::format("engine {} has no function with id {:#x}; every rank must "
                                     "register the same functions",
                                     eng.id(), h.fn_id));
      fe->invoke(fe->fn, *item, w, eng);
    });
  }
}

// A push answers with one item. Entries are stored one by one: an entry that fails (no memory
// for it, a segment that does not arrive whole) is removed from the namespace and named in the
// error, and the entries after it are still stored. An entry that cannot be read stops the push
// there: the entries after it cannot be found in the message. Either way the error says how many
// entries were stored and names each one that was not. (A failed entry's segment is not drained:
// with a corrupt length that could block forever; the error says so instead.)
void run_push(Engine& eng, const TaskHeader& h, Reader& r, SegmentFetcher& segs, Writer& w) {
  std::size_t at = begin_item(w);
  std::vector<std::string> failed;
  std::optional<Failure> first;
  std::uint32_t stored = 0, read = 0;
  for (; read < h.nitems; ++read) {
    PushEntry e;
    try {
      e = read_push_entry(r);
    } catch (...) {
      Failure f = current_failure();
      failed.push_back(fmt::format("entry {} could not be read ({}), so neither it nor the {} "
                                   "after it were stored",
                                   read, f.evalue, h.nitems - read - 1));
      if (!first) first = std::move(f);
      break;
    }
    bool fetched = !e.segment;
    try {
      Bytes& dst = eng.store().set_raw(e.name, e.type, e.len + e.segment_len);
      if (e.len) std::memcpy(dst.data(), e.bytes, e.len);  // an empty value has no buffer
      if (e.segment) {
        fetched = true;  // a fetch that throws has taken what it could of the segment
        segs.fetch(dst.data() + e.len, e.segment_len);
      }
      ++stored;
      continue;
    } catch (...) {
      Failure f = current_failure();
      failed.push_back(fmt::format("entry {} ('{}') was not stored: {}: {}{}", read, e.name,
                                   f.ename, f.evalue,
                                   fetched ? "" : " (its segment was not received: later pushes "
                                                  "of large arrays to this engine may fail)"));
      if (!first) first = std::move(f);
    }
    eng.store().erase(e.name);  // no half-written value under that name
  }
  if (!first) {
    end_item(w, at);
    return;
  }
  write_error_item(w, at, first->kind, first->ename,
                   fmt::format("push to engine {}: {} of {} entries stored; {}", eng.id(), stored,
                               h.nitems, fmt::join(failed, "; ")));
}

// A pull_into (kRunPullInto) of a large vector on an engine rank answers with the byte count
// only; the bytes leave from the namespace itself after the result (engine_payload.hpp).
void run_pull(Engine& eng, const TaskHeader& h, Reader& r, Writer& w) {
  run_item(w, [&] {
    std::string name(r.str());
    auto ntypes = r.count(1);
    std::vector<std::string> types;
    for (std::uint64_t i = 0; i < ntypes; ++i) types.emplace_back(r.str());
    std::uint32_t elem = (h.run & kRunPullInto) ? r.u32() : 0;
    std::span<const char> view;
    if (elem && !types.empty() && payloads_allowed() &&
        eng.store().view_for_pull(name, types[0], elem, view) && view.size() >= kPayloadMinBytes) {
      w.u8(kPullPayload);
      w.u64(view.size());
      w.patch(offsetof(ResultHeader, payload_bytes), std::uint64_t(view.size()));
      set_pending_payload(view);
      return;
    }
    std::size_t at = w.pos();
    w.u8(0);
    std::size_t which = eng.store().encode_for_pull(name, types, w);
    w.patch<std::uint8_t>(at, static_cast<std::uint8_t>(which));
  });
}

// A task that cannot be run at all answers with one error item; rank 0 then fails every item of
// the task, quoting this message.
void answer_unreadable(Writer& w, MsgId msg, std::int64_t stamp, const std::string& why,
                       std::uint32_t nitems = 1) {
  w.truncate(0);
  ResultHeader rh{};
  rh.msg_id = msg;
  rh.started_ns = rh.completed_ns = stamp;
  rh.nitems = nitems;
  w.pod(rh);
  for (std::uint32_t i = 0; i < nitems; ++i)
    write_error_item(w, ErrorKind::decode, "mpiply::ValueDecodeError", why);
}

std::int64_t cpu_ns(const timeval& tv) {
  return std::int64_t(tv.tv_sec) * 1'000'000'000 + std::int64_t(tv.tv_usec) * 1'000;
}

// A call run with its output captured: CPU time of this thread around it (in a worker process,
// the worker's only thread), the process's peak resident set after it, and its stdout and
// stderr after the items.
// Resource use without a system call per task. getrusage is not free and, on a loaded node, each
// system call is a chance to be descheduled (docs/benchmarks-log.md, code comments' figures).
// So readings are taken at most about every kReadNs of a busy thread: a task starts from the
// last reading when it is under kReadNs old (else from a fresh one; the thread was idle or busy
// with something else), and reads again at its end once kReadNs have passed since. Hence:
// - a task that ends within kReadNs of the last reading reports its wall time as user time and
//   no system time (a thread running such a short stretch is almost always on a CPU throughout);
// - a measured task's times include the engine's own work since the reading it started from:
//   at most kReadNs of CPU (the previous short tasks' and the engine's between them).
// The clock readings are the task's own start and end stamps (wall clock, taken anyway for the
// result header): a clock read is a sizeable part of a silent no-op task's whole cost on the
// engine. A wall-clock step shows as an interval outside [0, kReadNs): it takes a reading.
constexpr std::uint64_t kReadNs = 200'000;
struct LastUsage {
  std::int64_t user_ns = 0, system_ns = 0, max_rss = 0;  // CPU of this thread; process peak
  std::int64_t wall = 0;                                  // now_ns() when read
  bool valid = false;
};
thread_local LastUsage t_last;

void read_usage(std::int64_t wall) {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);  // its ru_maxrss is the process's (Linux)
  t_last = {cpu_ns(ru.ru_utime), cpu_ns(ru.ru_stime), std::int64_t(ru.ru_maxrss) * 1024, wall,
            true};
}

bool due(std::int64_t from, std::int64_t to) {
  return static_cast<std::uint64_t>(to - from) >= kReadNs;
}

// start: now_ns() when the task began; returns now_ns() after it (the task's completion stamp).
std::int64_t run_calls_captured(Engine& eng, const TaskHeader& h, Reader& r, Writer& w,
                                std::int64_t start) {
  if (!t_last.valid || due(t_last.wall, start)) read_usage(start);
  std::string out, err;
  {
    // Streamed while it runs when this engine streams (its MPI thread reads the files).
    OutputCapture cap(settings().output_cap, live_data(), h.msg_id);
    run_calls(eng, h, r, w);
    cap.finish(out, err);
  }
  std::int64_t end = now_ns();
  std::int64_t user_ns = end - start, system_ns = 0;
  if (due(t_last.wall, end) || due(start, end)) {
    LastUsage before = t_last;
    read_usage(end);
    user_ns = t_last.user_ns - before.user_ns;
    system_ns = t_last.system_ns - before.system_ns;
  }
  write_output(w, out, err);
  w.patch(offsetof(ResultHeader, cpu_user_ns), user_ns);
  w.patch(offsetof(ResultHeader, cpu_system_ns), system_ns);
  w.patch(offsetof(ResultHeader, max_rss_bytes), t_last.max_rss);
  return end;
}

}  // namespace

void answer_failed_call(const char* msg, std::size_t n, Bytes& out, std::int64_t started_ns,
                        std::int64_t completed_ns, ErrorKind kind, std::string_view evalue) {
  TaskHeader h{};
  if (n >= sizeof h) std::memcpy(&h, msg, sizeof h);
  out.clear();
  Writer w(out);
  ResultHeader rh{};
  rh.msg_id = h.msg_id;
  rh.started_ns = started_ns;
  rh.completed_ns = completed_ns;
  // A count the message cannot hold was answered by the executor itself, with one item.
  rh.nitems = n >= sizeof h && h.nitems <= (n - sizeof h) / 4 ? h.nitems : 1;
  w.pod(rh);
  for (std::uint32_t i = 0; i < rh.nitems; ++i)
    write_error_item(w, kind, error_type_name(kind), evalue);
}

ExecResult execute_task(Engine& eng, const char* msg, std::size_t n, SegmentFetcher& segs,
                        Bytes& out, std::int64_t clock_offset_ns) {
  out.clear();
  Writer w(out);
  std::int64_t start = now_ns();
  std::int64_t started = start - clock_offset_ns;
  if (n < sizeof(TaskHeader)) {
    answer_unreadable(w, 0, started,
                      fmt::format("engine {} got a task message of {} bytes, shorter than a task "
                                  "header ({} bytes)",
                                  eng.id(), n, sizeof(TaskHeader)));
    return {};
  }
  Reader r(msg, n);
  auto h = r.pod<TaskHeader>();
  if (h.kind == Kind::stop) return {true, static_cast<int>(static_cast<std::int64_t>(h.fn_id))};
  bool known = h.kind == Kind::call || h.kind == Kind::push || h.kind == Kind::pull ||
               h.kind == Kind::clear;
  if (!known) {
    answer_unreadable(w, h.msg_id, started,
                      fmt::format("engine {}: unknown task kind {} in msg {}", eng.id(),
                                  static_cast<int>(h.kind), h.msg_id));
    return {};
  }
  // Every call item starts with a u32 length: a count the message cannot hold is corrupt, and
  // answering it item by item could mean billions of error items.
  if (h.kind == Kind::call && h.nitems > r.remaining() / 4) {
    answer_unreadable(w, h.msg_id, started,
                      fmt::format("engine {}: msg {} claims {} calls in {} bytes", eng.id(),
                                  h.msg_id, h.nitems, r.remaining()));
    return {};
  }
  // A team member: its team follows the header (kRunTeam).
  std::vector<int> members;
  TeamBlock tb{};
  if (h.kind == Kind::call && (h.run & kRunTeam) != 0) {
    std::string bad = read_team(r, eng.id(), tb, members);
    if (!bad.empty()) {
      // A call's count is plausible here: every item fails, so the answer fills the task.
      answer_unreadable(w, h.msg_id, started,
                        fmt::format("engine {}: msg {} cannot run as a team task: {}", eng.id(),
                                    h.msg_id, bad),
                        h.nitems);
      return {};
    }
  }
  ResultHeader rh{};
  rh.msg_id = h.msg_id;
  rh.nitems = h.kind == Kind::call ? h.nitems : 1;
  w.pod(rh);
  CurrentEngine guard(eng);
  std::int64_t end = 0;  // a captured call's end stamp, reused as the completion stamp
  switch (h.kind) {
    case Kind::call: {
      TaskData data(h.msg_id);  // publish_data's target while the call runs
      TaskGrantScope grant(h.cores, h.gpu_mask);  // task_resources()
      // A team member makes (or finds) its team's communicator before its call, on this, the
      // engine's MPI thread, so that every member takes part whatever its call does.
      std::optional<TeamScope> team;
      TeamNote note{tb.rank, tb.size, eng.id(), (h.run & kRunTeamRoot) != 0};
      if (!members.empty()) team.emplace(members);
      const TeamNote* prev_team = t_team;
      t_team = members.empty() ? nullptr : &note;
      struct Restore {
        const TeamNote* p;
        ~Restore() { t_team = p; }
      } restore{prev_team};
      bool captured = settings().capture_output;
      if (captured)
        end = run_calls_captured(eng, h, r, w, start);
      else
        run_calls(eng, h, r, w);
      if (std::string d = data.encoded(); !d.empty()) {
        if (!captured) write_output(w, "", "");  // the data follows the (empty) output
        w.str(d);
      }
      break;
    }
    case Kind::push:
      run_push(eng, h, r, segs, w);
      break;
    case Kind::pull:
      run_pull(eng, h, r, w);
      break;
    default:  // Kind::clear
      eng.store().clear();
      run_item(w, [] {});
      break;
  }
  std::int64_t completed = (end != 0 ? end : now_ns()) - clock_offset_ns;
  w.patch(offsetof(ResultHeader, started_ns), started);
  w.patch(offsetof(ResultHeader, completed_ns), completed);
  return {};
}

}  // namespace mpiply::detail
