#pragma once
// The isolated tasks an Isolation was handed and has not given back yet, oldest first: their
// messages, what the worker's ring knows them by, and the answers of those taken back before
// they ran. The oldest ones are in the worker's ring (as many as its engine end has in flight);
// answers leave from the front, in submission order. Buffers of tasks given back are kept for the
// next ones, so a stream of small tasks allocates nothing.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/errors.hpp>

namespace mpiply::detail {

class TaskPipeline {
 public:
  struct Task {
    Bytes msg;
    std::int64_t submitted_ns;  // rank 0's clock: the failed answer's started stamp
    std::uint32_t time_limit_ms;
    std::uint32_t seq = 0;  // in the current worker's ring; 0 = not posted
    int idle_deaths = 0;    // workers that died before it started, while it was first in line
    bool taken_back = false;  // answered by the engine (answer), not run
    Bytes answer;
  };

  bool empty() const noexcept { return pending_.empty(); }
  std::size_t size() const noexcept { return pending_.size(); }
  Task& front() noexcept { return pending_.front(); }
  Task& operator[](std::size_t i) noexcept { return pending_[i]; }
  auto begin() noexcept { return pending_.begin(); }
  auto end() noexcept { return pending_.end(); }

  // Appends a copy of msg.
  void push(std::span<const char> msg, std::int64_t submitted_ns, std::uint32_t time_limit_ms);
  // Gives the oldest task's answer into out: the worker's reply, or, when the worker says it was
  // cancelled, the answer it was taken back with. Then it goes.
  void answer_front(Bytes& out, std::span<const char> reply, bool cancelled);
  // Fails the oldest task (its items become errors of this kind and text) into out; it goes.
  void fail_front(Bytes& out, ErrorKind kind, const std::string& why, std::int64_t now_ns);
  // The worker the tasks were posted to is gone: none of them is in a ring now.
  void unpost_all() noexcept;

 private:
  void pop_front();  // keeps its buffer for the next push

  std::deque<Task> pending_;
  std::vector<Bytes> spare_;  // message buffers of tasks given back
};

}  // namespace mpiply::detail
