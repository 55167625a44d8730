// Counting the engines' free resources (resource_pool.hpp).
#include "scheduling/resource_pool.hpp"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

namespace mpiply::detail {

namespace {

std::uint32_t all_bits(std::size_t n) {
  return n >= 32 ? ~std::uint32_t(0) : (std::uint32_t(1) << n) - 1;
}

}  // namespace

void ResourcePool::reset(std::size_t n) {
  cap_.assign(n, EngineResources{});
  free_.assign(n, Free{});
}

void ResourcePool::set(int e, const EngineResources& r) {
  auto i = static_cast<std::size_t>(e);
  cap_[i] = r;
  cap_[i].gpus.resize(std::min<std::size_t>(r.gpus.size(), 32));  // the grant is a 32-bit mask
  free_[i] = {r.cores, all_bits(cap_[i].gpus.size()), r.memory, r.named};
}

bool ResourcePool::fits_in(const Free& f, const ResourceRequest& r) {
  if (r.cores > f.cores || r.gpus > static_cast<unsigned>(std::popcount(f.gpus)) ||
      r.memory_bytes > f.memory)
    return false;
  for (const auto& [name, amount] : r.named) {
    auto it = f.named.find(name);
    if (it == f.named.end() ? amount > 0 : amount > it->second) return false;
  }
  return true;
}

bool ResourcePool::could_fit(int e, const ResourceRequest& r) const {
  const EngineResources& c = capacity(e);
  Free all{c.cores, all_bits(c.gpus.size()), c.memory, c.named};
  return fits_in(all, r);
}

Grant ResourcePool::take(int e, const ResourceRequest& r) {
  Free& f = free_[static_cast<std::size_t>(e)];
  Grant g;
  g.cores = static_cast<std::uint16_t>(r.cores);
  f.cores -= r.cores;
  for (unsigned k = 0; k < r.gpus; ++k) {
    std::uint32_t low = f.gpus & (~f.gpus + 1);  // the lowest free GPU
    g.gpu_mask |= low;
    f.gpus &= ~low;
  }
  f.memory -= r.memory_bytes;
  for (const auto& [name, amount] : r.named)
    if (amount > 0) f.named[name] -= amount;
  return g;
}

void ResourcePool::give_back(int e, const ResourceRequest& r, Grant g) {
  Free& f = free_[static_cast<std::size_t>(e)];
  f.cores += g.cores;
  f.gpus |= g.gpu_mask;
  f.memory += r.memory_bytes;
  for (const auto& [name, amount] : r.named)
    if (amount > 0) f.named[name] += amount;
}

unsigned ResourcePool::free_gpus(int e) const {
  return static_cast<unsigned>(std::popcount(free_of(e).gpus));
}

std::string ResourcePool::never_fits(const ResourceRequest& r,
                                     const std::vector<int>& engines) const {
  unsigned cores = 0, gpus = 0;
  std::uint64_t memory = 0;
  std::map<std::string, std::uint64_t> named;
  for (int e : engines) {
    if (could_fit(e, r)) return {};
    const EngineResources& c = capacity(e);
    cores = std::max(cores, c.cores);
    gpus = std::max(gpus, static_cast<unsigned>(c.gpus.size()));
    memory = std::max(memory, c.memory);
    for (const auto& [name, amount] : c.named) named[name] = std::max(named[name], amount);
  }
  std::string over;
  auto add = [&over](std::string s) { over += (over.empty() ? "" : "; ") + s; };
  if (r.cores > cores)
    add(fmt::format("{} cores asked, the most an engine holds is {} (MPIPLY_ENGINE_THREADS or "
                    "SLURM_CPUS_PER_TASK)",
                    r.cores, cores));
  if (r.gpus > gpus)
    add(fmt::format("{} GPUs asked, the most an engine holds is {} (CUDA_VISIBLE_DEVICES, "
                    "Slurm's GPUs or MPIPLY_GPUS)",
                    r.gpus, gpus));
  if (r.memory_bytes > memory)
    add(fmt::format("{} bytes of memory asked, the most an engine holds is {} (MPIPLY_MEMORY, "
                    "else Slurm's or the cgroup's limit)",
                    r.memory_bytes, memory));
  for (const auto& [name, amount] : r.named)
    if (amount > named[name])
      add(fmt::format("{} of '{}' asked, the most an engine holds is {} (MPIPLY_RESOURCES)",
                      amount, name, named[name]));
  if (over.empty())  // each amount fits some engine, but no engine holds all of them
    over = "no single engine holds all of it";
  return fmt::format("no engine it may run on ({} of them) can ever hold what it asks for: {}",
                     engines.size(), over);
}

}  // namespace mpiply::detail
