// Reading an engine's inventory from its environment (inventory.hpp). mpiply's own variables are
// parsed strictly, like every MPIPLY_* setting (settings.cpp); the launcher's are taken when they
// parse and passed over otherwise, since a job cannot change what Slurm or the driver set.
#include "runtime/inventory.hpp"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <hwloc.h>

namespace mpiply::detail {

namespace {

EngineResources g_local;

const char* inventory_env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

std::optional<std::uint64_t> whole(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  for (std::size_t at = 0;;) {
    std::size_t end = s.find(sep, at);
    out.emplace_back(s.substr(at, end == std::string_view::npos ? s.npos : end - at));
    if (end == std::string_view::npos) return out;
    at = end + 1;
  }
}

// "8G", "512MiB", "1073741824", "16GB": a whole number and an optional binary unit K, M, G or T
// (with or without "iB" / "B"). nullopt if it is not one or overflows.
std::optional<std::uint64_t> byte_size(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  auto n = whole(s.substr(0, digits));
  if (!n) return std::nullopt;
  std::string unit(s.substr(digits));
  if (unit.size() > 1 && (unit.ends_with("iB") || unit.ends_with("B")))
    unit.resize(unit.size() - (unit.ends_with("iB") ? 2 : 1));
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K" || unit == "k") shift = 10;
  else if (unit == "M") shift = 20;
  else if (unit == "G") shift = 30;
  else if (unit == "T") shift = 40;
  else return std::nullopt;
  if (*n > (UINT64_MAX >> shift)) return std::nullopt;
  return *n << shift;
}

// A GPU id list as CUDA_VISIBLE_DEVICES and Slurm write it: comma-separated, none empty, no
// repeats, at most kMaxEngineGpus. Empty when it is not one.
std::vector<std::string> gpu_list(const char* v, std::string& why) {
  std::vector<std::string> ids = split(v, ',');
  std::set<std::string> seen;
  for (const auto& id : ids) {
    if (id.empty() || id.find_first_of(" \t=") != std::string::npos) {
      why = fmt::format("'{}' is not a GPU id", id);
      return {};
    }
    if (!seen.insert(id).second) {
      why = fmt::format("GPU id '{}' appears twice", id);
      return {};
    }
  }
  if (ids.size() > kMaxEngineGpus) {
    why = fmt::format("{} ids, more than the {} one engine may hold", ids.size(), kMaxEngineGpus);
    return {};
  }
  return ids;
}

// Memory the launcher gives this rank, in bytes; 0 when it says nothing usable.
std::uint64_t launcher_memory(unsigned cores) {
  if (const char* v = inventory_env("SLURM_MEM_PER_CPU"))  // megabytes
    if (auto mb = whole(v)) return *mb * cores << 20;
  std::uint64_t node = 0;
  if (const char* v = inventory_env("SLURM_MEM_PER_NODE"))
    if (auto mb = whole(v)) node = *mb << 20;
  if (node == 0) {
    // cgroup v2, then v1 (v1 writes a huge number when there is no limit).
    for (const char* path : {"/sys/fs/cgroup/memory.max",
                             "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
      std::ifstream f(path);
      std::string text;
      if (f >> text)
        if (auto b = whole(text); b && *b < (std::uint64_t(1) << 50)) {
          node = *b;
          break;
        }
    }
  }
  if (node == 0) return 0;
  // A node's (or a cgroup's) memory is shared by the ranks on it.
  return node / ranks_on_this_node();
}

bool valid_name(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

// The cores this process may run on: those of the machine's cores (hwloc's topology) that share
// a hardware thread with its CPU binding, so a rank that mpirun bound to one core counts 1 and an
// unbound one counts the machine's. A topology without core objects counts hardware threads.
// 0 when hwloc cannot tell.
unsigned count_bound_cores() {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) return 0;
  unsigned n = 0;
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  if (set && hwloc_topology_load(topo) == 0 &&
      (hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) == 0 ||
       hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_THREAD) == 0)) {
    for (hwloc_obj_t core = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, nullptr); core;
         core = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, core))
      if (hwloc_bitmap_intersects(core->cpuset, set)) ++n;
    if (n == 0 && hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE) == 0) {
      int pus = hwloc_bitmap_weight(set);
      n = pus > 0 ? static_cast<unsigned>(pus) : 0;
    }
  }
  if (set) hwloc_bitmap_free(set);
  hwloc_topology_destroy(topo);
  return n;
}

// What note_bound_cores() read before MPI started; -1: not read.
std::atomic<int> early_bound_cores{-1};

unsigned bound_cores() {
  int early = early_bound_cores.load(std::memory_order_acquire);
  return early >= 0 ? static_cast<unsigned>(early) : count_bound_cores();
}

}  // namespace

void note_bound_cores() {
  // hwloc loads every plugin it finds when a topology is made (Debian's: OpenGL, OpenCL, PCI and
  // libxml2 with ICU), which costs more than reading the topology itself, and only cores are
  // needed here. Its variable HWLOC_PLUGINS_BLACKLIST keeps them out; it is set only while
  // this topology is made (MPI's own hwloc use later is left as it was), only when the user has
  // not set it, and only before MPI_Init, while no other thread can be reading the environment.
  const char* kVar = "HWLOC_PLUGINS_BLACKLIST";
  bool set_here = std::getenv(kVar) == nullptr &&
                  setenv(kVar, "hwloc_gl,hwloc_opencl,hwloc_pci,hwloc_xml_libxml", 0) == 0;
  unsigned n = count_bound_cores();
  if (set_here) unsetenv(kVar);
  early_bound_cores.store(static_cast<int>(n), std::memory_order_release);
}

unsigned ranks_on_this_node() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE"})
    if (const char* v = inventory_env(name))
      if (auto n = whole(v); n && *n >= 1 && *n <= UINT32_MAX) return static_cast<unsigned>(*n);
  return 1;
}

EngineResources read_inventory(std::vector<std::string>& problems, unsigned default_cores) {
  EngineResources r;
  r.cores = default_cores;
  bool named = false;
  for (const char* name : {"SLURM_CPUS_PER_TASK", "MPIPLY_ENGINE_THREADS"})  // later wins
    if (const char* v = inventory_env(name))
      if (auto n = whole(v); n && *n >= 1 && *n <= 1024) {
        r.cores = static_cast<unsigned>(*n);
        named = true;
      }
  // Neither variable nor the program names them: the engine's CPU binding does.
  if (!named && default_cores == 0) {
    unsigned n = bound_cores();
    r.cores = n >= 1 && n <= 1024 ? n : 1;
  }

  if (const char* v = inventory_env("MPIPLY_GPUS")) {
    std::string why;
    r.gpus = gpu_list(v, why);
    if (!why.empty())
      problems.push_back(fmt::format(
          "MPIPLY_GPUS='{}' is not a list of GPU ids ({}); it sets the GPUs this engine hands "
          "to tasks. Use comma-separated ids such as 0,1 (at most {}), or unset it to take "
          "CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES or Slurm's GPUs",
          v, why, kMaxEngineGpus));
  } else {
    for (const char* name :
         {"CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "SLURM_STEP_GPUS", "SLURM_JOB_GPUS"}) {
      const char* v = inventory_env(name);
      if (!v) continue;
      std::string why;
      r.gpus = gpu_list(v, why);  // "NoDevFiles" and the like stay one id: not ours to judge
      break;
    }
  }

  if (const char* v = inventory_env("MPIPLY_MEMORY")) {
    auto b = byte_size(v);
    if (b && *b > 0)
      r.memory = *b;
    else
      problems.push_back(fmt::format(
          "MPIPLY_MEMORY='{}' is {}; it sets the memory this engine hands to tasks. Use a "
          "whole number of bytes with an optional unit K, M, G or T (such as 16G or 512MiB), or "
          "unset it to take Slurm's allocation or the cgroup's limit",
          v, b ? "out of range" : "not a size"));
  } else {
    r.memory = launcher_memory(r.cores);
  }

  if (const char* v = inventory_env("MPIPLY_RESOURCES")) {
    std::string why;
    for (const auto& entry : split(v, ',')) {
      std::size_t eq = entry.find('=');
      std::string name = entry.substr(0, eq);
      auto n = eq == std::string::npos ? std::nullopt : whole(std::string_view(entry).substr(eq + 1));
      if (eq == std::string::npos || !valid_name(name))
        why = fmt::format("'{}' is not a name=amount entry", entry);
      else if (!n)
        why = fmt::format("the amount of '{}' is not a whole number", name);
      else if (name == "cores" || name == "gpus" || name == "memory")
        why = fmt::format("'{}' is set by its own variable, not as a named resource", name);
      else if (!r.named.emplace(name, *n).second)
        why = fmt::format("'{}' appears twice", name);
      if (!why.empty()) break;
    }
    if (!why.empty()) {
      r.named.clear();
      problems.push_back(fmt::format(
          "MPIPLY_RESOURCES='{}' is not a list of named amounts ({}); it sets the named "
          "resources this engine hands to tasks. Use name=amount entries separated by commas, "
          "such as license=2,scratch=1, or unset it for none",
          v, why));
    }
  }
  return r;
}

const EngineResources& local_inventory() noexcept { return g_local; }
void set_local_inventory(EngineResources r) { g_local = std::move(r); }

std::string describe(const EngineResources& r) {
  std::string s = fmt::format("{} core{}", r.cores, r.cores == 1 ? "" : "s");
  if (!r.gpus.empty()) s += fmt::format(", GPUs {}", fmt::join(r.gpus, ","));
  if (r.memory) s += fmt::format(", {:.3g} GiB", double(r.memory) / double(1ull << 30));
  for (const auto& [k, v] : r.named) s += fmt::format(", {}={}", k, v);
  return s;
}

}  // namespace mpiply::detail
