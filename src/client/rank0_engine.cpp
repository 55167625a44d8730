// The engine rank 0 runs itself (rank0_engine.hpp): a task run inline or queued on the engine
// slot, and the slot's results handed on.
#include "client/rank0_engine.hpp"

#include <cstring>

#include <mpiply/detail/wire.hpp>

#include "client/result_handler.hpp"
#include "executor/executor.hpp"
#include "support/clock.hpp"
#include "wire/transport.hpp"

namespace mpiply::detail {

namespace {

// With one rank the segments of a push are read straight from the caller's memory: there is no
// message to receive them from.
class MemorySegments : public SegmentFetcher {
 public:
  explicit MemorySegments(const std::vector<Segment>& segs) : segs_(segs) {}
  void fetch(char* dst, std::size_t n) override {
    if (i_ >= segs_.size() || segs_[i_].size != n)
      throw ValueDecodeError("push: segment sizes do not match the message");
    std::memcpy(dst, segs_[i_].data, n);
    ++i_;
  }

 private:
  const std::vector<Segment>& segs_;
  std::size_t i_ = 0;
};

}  // namespace

Rank0Engine::Rank0Engine(const EngineRoster& roster, ResultHandler& results)
    : roster_(roster), results_(results) {
  if (roster_.client_runs_tasks())
    slot_ = std::make_unique<LocalEngine>(roster_.local_id(),
                                          roster_.engine_info(roster_.local_id()).hostname);
  if (roster_.inline_mode())
    inline_ = std::make_unique<Engine>(0, 0, roster_.engine_info(0).hostname);
}

void Rank0Engine::submit_locked(int e, std::span<const char> msg,
                                const std::vector<Segment>& segs) {
  if (!inline_) {
    slot_->submit(msg, segs);
    return;
  }
  MemorySegments ms(segs);
  inline_out_.clear();
  {
    CurrentEngine guard(*inline_);
    inline_iso_.run(*inline_, msg.data(), msg.size(), ms, inline_out_, 0);
  }
  // No MPI here, but the job must fail as it would on a cluster.
  if (inline_out_.size() > max_message_bytes()) replace_with_too_large(inline_out_);
  results_.handle_result_locked(e, inline_out_.data(), inline_out_.size(), now_ns());
}

int Rank0Engine::poll_slot_locked() {
  return slot_->poll([this](const char* p, std::size_t len) {
    results_.handle_result_locked(roster_.local_id(), p, len, now_ns());
  });
}

void Rank0Engine::close() { slot_.reset(); }

}  // namespace mpiply::detail
