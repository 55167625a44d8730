// The isolated tasks in order (task_pipeline.hpp).
#include "isolation/task_pipeline.hpp"

#include <utility>

#include "executor/executor.hpp"

namespace mpiply::detail {

namespace {

// A buffer kept for the next task is at most this big: a big one is not held on to.
constexpr std::size_t kSpareMaxBytes = std::size_t(64) << 10;

}  // namespace

void TaskPipeline::push(std::span<const char> msg, std::int64_t submitted_ns,
                        std::uint32_t time_limit_ms) {
  Task t;
  if (!spare_.empty()) {
    t.msg.swap(spare_.back());
    spare_.pop_back();
    t.msg.clear();
  }
  t.msg.append(msg.data(), msg.size());
  t.submitted_ns = submitted_ns;
  t.time_limit_ms = time_limit_ms;
  pending_.push_back(std::move(t));
}

void TaskPipeline::answer_front(Bytes& out, std::span<const char> reply, bool cancelled) {
  out.clear();
  if (cancelled)
    out.swap(pending_.front().answer);
  else
    out.append(reply.data(), reply.size());
  pop_front();
}

void TaskPipeline::fail_front(Bytes& out, ErrorKind kind, const std::string& why,
                              std::int64_t now_ns) {
  const Task& t = pending_.front();
  answer_failed_call(t.msg.data(), t.msg.size(), out, t.submitted_ns, now_ns, kind, why);
  pop_front();
}

void TaskPipeline::unpost_all() noexcept {
  for (Task& t : pending_) t.seq = 0;
}

void TaskPipeline::pop_front() {
  if (pending_.front().msg.size() <= kSpareMaxBytes)
    spare_.push_back(std::move(pending_.front().msg));
  pending_.pop_front();
}

}  // namespace mpiply::detail
