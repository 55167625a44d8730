#pragma once
// Resources: what each engine holds (its inventory, read from its environment at start-up) and
// what a task was given out of it (task_resources(), inside a task). A load-balanced task asks
// for cores, GPUs, memory and named resources through its TaskFlags; the scheduler places it
// only on an engine whose free amounts fit (docs/resources.md).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mpiply {

// What one engine advertises. Amounts are the engine's own, not the node's: two engines on one
// node each advertise what their environment gives them.
struct EngineResources {
  unsigned cores = 1;             // MPIPLY_ENGINE_THREADS, else SLURM_CPUS_PER_TASK, else 1
  std::vector<std::string> gpus{};  // ids, as CUDA_VISIBLE_DEVICES would list them
  std::uint64_t memory = 0;       // bytes; 0 when the engine could not tell (set MPIPLY_MEMORY)
  std::map<std::string, std::uint64_t> named{};  // MPIPLY_RESOURCES="license=2,scratch=1"

  bool operator==(const EngineResources&) const = default;
};

// What the running task was given. A task that asked for no cores is given one: size a thread
// pool by `cores`. `gpus` are the ids reserved for it alone until it ends (none unless it asked).
struct TaskResources {
  unsigned cores = 1;
  std::vector<std::string> gpus;
};

// The resources of the task running on this thread; throws UsageError outside a task.
const TaskResources& task_resources();

// Byte sizes for TaskFlags::memory: {.memory = 8_GiB} after `using namespace mpiply::literals;`.
namespace literals {
constexpr std::uint64_t operator""_KiB(unsigned long long n) { return n << 10; }
constexpr std::uint64_t operator""_MiB(unsigned long long n) { return n << 20; }
constexpr std::uint64_t operator""_GiB(unsigned long long n) { return n << 30; }
}  // namespace literals

}  // namespace mpiply
