// Messages of fixed tasks (apply, push, pull, clear, scatter), NamedValue's encoding and the
// partitioning of inputs.
#include <mpiply/detail/sources.hpp>
#include <mpiply/engine_view.hpp>

#include <fmt/format.h>

#include "runtime/settings.hpp"

namespace mpiply::detail {

void write_header(Writer& w, Kind kind, std::uint32_t nitems, std::uint64_t fn_id) {
  TaskHeader h{};
  h.kind = kind;
  h.nitems = nitems;
  h.fn_id = fn_id;
  w.pod(h);
}

void stamp_run(char* msg, const TaskFlags& flags) {
  TaskHeader h;
  std::memcpy(&h, msg, sizeof h);
  if (h.kind != Kind::call) return;  // pushes, pulls and clears always run in the engine
  const Settings& s = settings();
  std::uint64_t limit_ms = static_cast<std::uint64_t>(s.time_limit_ms);
  if (flags.time_limit) {
    double sec = flags.time_limit->count();
    if (!(sec >= 0) || sec * 1000 > double(kMaxTimeLimitMs))
      throw UsageError(fmt::format("TaskFlags::time_limit is {:g} s; give 0 (no limit) up to "
                                   "4000000 seconds",
                                   sec));
    limit_ms = static_cast<std::uint64_t>(sec * 1000 + 0.5);
    if (limit_ms == 0 && sec > 0) limit_ms = 1;
  }
  bool isolate = flags.isolate.value_or(s.isolate) || limit_ms > 0;
  h.run = isolate ? kRunIsolated : 0;
  h.time_limit_ms = static_cast<std::uint32_t>(limit_ms);
  std::memcpy(msg, &h, sizeof h);
}

std::span<const char> with_team(std::span<const char> msg, std::span<const int> team,
                                std::uint32_t rank, Bytes& out) {
  out.clear();
  TaskHeader h;
  std::memcpy(&h, msg.data(), sizeof h);
  // In the engine process, on its MPI thread: a worker process has no MPI. The source may ask
  // for team rank 0's value only (team_source.hpp).
  h.run = static_cast<std::uint8_t>(kRunTeam | (h.run & kRunTeamRoot));
  h.time_limit_ms = 0;
  out.append(&h, sizeof h);
  TeamBlock tb{static_cast<std::uint32_t>(team.size()), rank};
  out.append(&tb, sizeof tb);
  for (int e : team) {
    auto id = static_cast<std::int32_t>(e);
    out.append(&id, sizeof id);
  }
  out.append(msg.data() + sizeof h, msg.size() - sizeof h);
  return {out.data(), out.size()};
}

namespace {
std::span<const char> stamped(Bytes& msg, MsgId id, bool shared, Bytes& scratch,
                              const TaskFlags& flags) {
  Bytes* out = &msg;
  if (shared) {
    scratch.clear();
    scratch.append(msg.data(), msg.size());
    out = &scratch;
  }
  std::memcpy(out->data() + offsetof(TaskHeader, msg_id), &id, sizeof id);
  stamp_run(out->data(), flags);
  return {out->data(), out->size()};
}
}  // namespace

std::span<const char> FixedSource::encode(std::uint32_t task, Bytes& scratch,
                                          std::vector<Segment>& segments) {
  segments = segs;
  return stamped(msg, first_msg + task, ntasks > 1, scratch, flags);
}

std::span<const char> PerTargetSource::encode(std::uint32_t task, Bytes& scratch,
                                              std::vector<Segment>& segments) {
  segments = segs[task];
  return stamped(msgs[task], first_msg + task, false, scratch, flags);
}

std::vector<std::pair<std::size_t, std::size_t>> partition(std::size_t n, std::size_t parts) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  if (parts == 0) return out;
  std::size_t base = n / parts, extra = n % parts, at = 0;
  for (std::size_t p = 0; p < parts; ++p) {
    std::size_t len = base + (p < extra ? 1 : 0);
    out.emplace_back(at, len);
    at += len;
  }
  return out;
}

std::shared_ptr<FixedSource> make_push_source(const std::vector<const NamedValue*>& values) {
  auto src = std::make_shared<FixedSource>();
  Writer w(src->msg);
  write_header(w, Kind::push, static_cast<std::uint32_t>(values.size()), 0);
  for (const NamedValue* v : values) v->write(w, src->segs, src->keep);
  return src;
}

namespace {
// A push that owns everything it sends: borrowed arrays are copied, owned ones shared.
std::shared_ptr<FixedSource> make_owned_push_source(std::vector<NamedValue>& values) {
  std::vector<const NamedValue*> ptrs;
  for (auto& v : values) {
    v.own();
    ptrs.push_back(&v);
  }
  return make_push_source(ptrs);
}
}  // namespace

void check_pull_names(const std::string* names, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (names[i].empty())
      throw UsageError(fmt::format("pull: name {} of {} is empty; give one name per type, e.g. "
                                   "pull<int, std::string>({{\"a\", \"s\"}})",
                                   i + 1, n));
}

std::shared_ptr<FixedSource> make_pull_source(const std::string& name,
                                              const std::vector<std::string>& type_tags,
                                              std::uint32_t into_elem_size) {
  auto src = std::make_shared<FixedSource>();
  Writer w(src->msg);
  write_header(w, Kind::pull, 1, 0);
  w.str(name);
  w.u64(type_tags.size());
  for (const auto& t : type_tags) w.str(t);
  if (into_elem_size) {
    w.u32(into_elem_size);
    w.patch(offsetof(TaskHeader, run), kRunPullInto);
  }
  return src;
}

std::shared_ptr<FixedSource> make_clear_source() {
  auto src = std::make_shared<FixedSource>();
  Writer w(src->msg);
  write_header(w, Kind::clear, 1, 0);
  return src;
}

std::shared_ptr<PerTargetSource> make_scatter_source(const std::vector<NamedValue>& parts) {
  auto src = std::make_shared<PerTargetSource>();
  for (const NamedValue& v : parts) {
    Writer w(src->msgs.emplace_back());
    write_header(w, Kind::push, 1, 0);
    v.write(w, src->segs.emplace_back(), src->keep);
  }
  return src;
}

}  // namespace mpiply::detail

namespace mpiply {

void NamedValue::own() {
  if (!borrowed()) return;
  // Still sent as a segment: a copy inline would make the task message as large as the array.
  auto copy = std::make_shared<detail::Bytes>();
  copy->append(seg_.data, seg_.size);
  seg_.data = copy->data();
  keep_ = std::move(copy);
}

void NamedValue::write(detail::Writer& w, std::vector<detail::Segment>& segs,
                       std::vector<std::shared_ptr<const void>>& keep) const {
  w.str(name_);
  w.str(type_);
  if (!seg_.data) {
    w.u8(0);
    w.u64(bytes_.size());
    w.raw(bytes_.data(), bytes_.size());
  } else {
    w.u8(1);
    w.u64(bytes_.size());
    w.raw(bytes_.data(), bytes_.size());
    w.u64(seg_.size);
    segs.push_back(seg_);
    if (keep_) keep.push_back(keep_);
  }
}

AsyncMapResult<None> DirectView::push_async(std::vector<NamedValue> values) {
  return AsyncMapResult<None>(start_fixed<detail::ResultState<None>>(
                                  detail::make_owned_push_source(values), "push"),
                              true);
}

AsyncResult<None> EngineView::push_async(std::vector<NamedValue> values) {
  return single<detail::ResultState<None>>(detail::make_owned_push_source(values), "push");
}

AsyncMapResult<None> DirectView::clear_async() {
  return AsyncMapResult<None>(
      start_fixed<detail::ResultState<None>>(detail::make_clear_source(), "clear"), true);
}

}  // namespace mpiply
