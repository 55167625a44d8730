// The task database's batches between append and the writer thread (batch_queue.hpp).
#include "taskdb/batch_queue.hpp"

namespace mpiply::detail {

namespace {
// Emptied batches kept for reuse: enough for the writer's usual lag, few enough that a burst
// does not keep its memory for the rest of the run.
constexpr std::size_t kSpares = 4;
}  // namespace

BatchQueue::BatchQueue(std::size_t batch_rows, std::size_t batch_bytes)
    : batch_rows_(batch_rows), batch_bytes_(batch_bytes) {
  cur_ = fresh();
}

std::unique_ptr<StagedBatch> BatchQueue::fresh() {
  if (!spare_.empty()) {
    auto b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }
  auto b = std::make_unique<StagedBatch>();
  b->rows.reserve(batch_rows_);
  return b;
}

bool BatchQueue::stage(const TaskRow& row) {
  cur_->add(row);
  return cur_->rows.size() >= batch_rows_ || cur_->results.size() >= batch_bytes_;
}

void BatchQueue::seal(std::uint64_t through) {
  if (cur_->count() == 0) return;
  cur_->through = through;
  sealed_.push_back(std::move(cur_));
  cur_ = fresh();
}

BatchQueue::Batches BatchQueue::take() {
  Batches out;
  out.swap(sealed_);
  return out;
}

void BatchQueue::recycle(Batches& done) {
  for (auto& b : done) {
    if (spare_.size() >= kSpares) break;
    b->clear();
    spare_.push_back(std::move(b));
  }
  done.clear();
}

std::uint64_t BatchQueue::discard() {
  std::uint64_t lost = cur_->count();
  for (const auto& b : sealed_) lost += b->count();
  sealed_.clear();
  cur_->clear();
  return lost;
}

}  // namespace mpiply::detail
