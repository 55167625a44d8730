#pragma once
// What the running task was given (mpiply::task_resources): set from its task header for the
// length of a call. In an isolated worker process CUDA_VISIBLE_DEVICES is set to the task's GPU
// ids too, so CUDA code in the task sees those devices only.
#include <cstdint>

#include <mpiply/resources.hpp>

namespace mpiply::detail {

// Makes the task on this thread see cores (0: it asked for none, it sees 1) and the GPUs at
// the positions of gpu_mask in this engine's inventory, while the guard lives.
class TaskGrantScope {
 public:
  TaskGrantScope(std::uint16_t cores, std::uint32_t gpu_mask);
  ~TaskGrantScope();
  TaskGrantScope(const TaskGrantScope&) = delete;
  TaskGrantScope& operator=(const TaskGrantScope&) = delete;

 private:
  TaskResources res_;
  const TaskResources* prev_;
};

// Called once in a forked worker process: from then on each call's grant also sets
// CUDA_VISIBLE_DEVICES (the value the worker inherited comes back for calls given no GPU).
void mark_worker_process();

}  // namespace mpiply::detail
