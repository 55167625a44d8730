// A task's resources as its engine sees them (task_grant.hpp, mpiply::task_resources).
#include "executor/task_grant.hpp"

#include <cstdlib>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/errors.hpp>

#include "runtime/inventory.hpp"

namespace mpiply {

namespace {
thread_local const TaskResources* t_current = nullptr;
bool g_worker = false;
std::optional<std::string> g_inherited_cuda;  // the worker's CUDA_VISIBLE_DEVICES at fork
}  // namespace

const TaskResources& task_resources() {
  if (!t_current)
    throw UsageError("mpiply::task_resources() called outside a task; only a registered function "
                     "running on an engine was given resources");
  return *t_current;
}

namespace detail {

TaskGrantScope::TaskGrantScope(std::uint16_t cores, std::uint32_t gpu_mask) : prev_(t_current) {
  res_.cores = cores == 0 ? 1 : cores;
  const auto& gpus = local_inventory().gpus;
  for (std::size_t i = 0; i < gpus.size() && i < 32; ++i)
    if (gpu_mask >> i & 1u) res_.gpus.push_back(gpus[i]);
  t_current = &res_;
  // Only a worker process runs one task at a time with an environment of its own; threads of
  // one engine share theirs, so there the task reads its ids from task_resources().
  if (g_worker) {
    if (!res_.gpus.empty())
      setenv("CUDA_VISIBLE_DEVICES", fmt::format("{}", fmt::join(res_.gpus, ",")).c_str(), 1);
    else if (g_inherited_cuda)
      setenv("CUDA_VISIBLE_DEVICES", g_inherited_cuda->c_str(), 1);
    else
      unsetenv("CUDA_VISIBLE_DEVICES");
  }
}

TaskGrantScope::~TaskGrantScope() { t_current = prev_; }

void mark_worker_process() {
  g_worker = true;
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES")) g_inherited_cuda = v;
}

}  // namespace detail
}  // namespace mpiply
