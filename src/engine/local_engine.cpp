// Rank 0's own engine slot. Why a thread and copies: the scheduler holds its lock and drives MPI;
// a task run in place would stall every other engine's results for as long as it runs.
#include "engine/local_engine.hpp"

#include <cstring>
#include <unistd.h>

#include "engine/drain_engine.hpp"
#include "executor/executor.hpp"
#include "isolation/isolation.hpp"
#include "wire/transport.hpp"

namespace mpiply::detail {

namespace {

// A push's segments, from the copies made at submission.
class CopiedSegments : public SegmentFetcher {
 public:
  explicit CopiedSegments(const std::vector<Bytes>& segs) : segs_(segs) {}
  void fetch(char* dst, std::size_t n) override {
    if (i_ >= segs_.size() || segs_[i_].size() != n)
      throw ValueDecodeError("push: segment sizes do not match the message");
    std::memcpy(dst, segs_[i_].data(), n);
    ++i_;
  }

 private:
  const std::vector<Bytes>& segs_;
  std::size_t i_ = 0;
};

}  // namespace

LocalEngine::LocalEngine(int id, const std::string& hostname)
    : eng_(id, 0, hostname), thread_([this] { work(); }) {}

LocalEngine::~LocalEngine() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LocalEngine::submit(std::span<const char> msg, const std::vector<Segment>& segs) {
  auto j = std::make_unique<Job>();
  j->msg.append(msg.data(), msg.size());
  for (const Segment& s : segs) {
    j->segs.emplace_back();
    j->segs.back().append(s.data, s.size);
  }
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(j));
  }
  cv_.notify_one();
}

void LocalEngine::work() {
  Isolation iso;  // forks from this thread; send_signal reaches it through signal_running_tasks
  for (;;) {
    std::unique_ptr<Job> j;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    CopiedSegments segs(j->segs);
    // Rank 0's clock is the reference: no offset.
    if (!answer_if_draining(eng_, j->msg.data(), j->msg.size(), j->out, 0))  // drain hook
      iso.run(eng_, j->msg.data(), j->msg.size(), segs, j->out, 0);
    if (j->out.size() > max_message_bytes()) replace_with_too_large(j->out);
    j->msg = Bytes();
    j->segs.clear();
    {
      std::lock_guard lk(mu_);
      done_.push_back(std::move(j));
      finished_.fetch_add(1, std::memory_order_release);
    }
  }
}

}  // namespace mpiply::detail
