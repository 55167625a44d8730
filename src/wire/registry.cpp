// The function registry: names hashed to ids (FNV-1a), looked up by id on engines and by address
// at the call site on rank 0.
#include <mpiply/detail/registry.hpp>

#include <algorithm>
#include <map>
#include <atomic>
#include <mutex>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

#include "support/symbol_name.hpp"

namespace mpiply::detail {

namespace {

struct Registry {
  std::mutex mu;
  // Set by mpiply::run once start-up agreed on the table; from then on it is read-only and read
  // without the lock (engines look a function up for every task).
  std::atomic<bool> frozen{false};
  // Counts freezes and thaws: a thread's cached lookup (LastLookup) holds while it is unchanged
  // and the table frozen, since the table changes only while thawed.
  std::atomic<std::uint64_t> generation{0};
  std::map<std::uint64_t, FunctionEntry> by_id;
  std::map<const void*, std::uint64_t> by_key;
  std::vector<std::string> problems;
};

// Constructed on first use, so registrations from any translation unit's static initialisers work.
Registry& registry() {
  static Registry r;
  return r;
}

// Sorted registered names; the caller holds the lock (or the table is frozen).
std::vector<std::string> sorted_names(const Registry& r) {
  std::vector<std::string> names;
  for (const auto& [id, e] : r.by_id) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::string names_list(const Registry& r) {
  auto names = sorted_names(r);
  if (names.empty()) return "(none)";
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

std::uint64_t hash_name(std::string_view name) noexcept {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void freeze_registry(bool frozen) noexcept {
  Registry& r = registry();
  r.generation.fetch_add(1, std::memory_order_acq_rel);
  r.frozen.store(frozen, std::memory_order_release);
}

namespace {
// The last entry this thread looked up in the frozen table, by id or by key: a loop of applies
// names one function again and again, and an engine looks each task's function up twice.
struct LastLookup {
  std::uint64_t generation = ~std::uint64_t(0);
  std::uint64_t id = 0;
  const void* key = nullptr;
  const FunctionEntry* entry = nullptr;
};
thread_local LastLookup t_last;

// The frozen table's generation, or ~0 when it is not frozen (no lookup is cached then).
std::uint64_t frozen_generation(Registry& r) noexcept {
  if (!r.frozen.load(std::memory_order_acquire)) return ~std::uint64_t(0);
  return r.generation.load(std::memory_order_acquire);
}
}  // namespace

bool add_function(std::string name, std::string signature, const void* key, ErasedFn fn,
                  Invoker invoke, bool collective, std::string version, bool versioned) noexcept {
  try {
    Registry& r = registry();
    std::lock_guard lk(r.mu);
    if (r.frozen.load(std::memory_order_acquire)) {
      r.problems.push_back(fmt::format("'{}' was registered while mpiply::run was running; "
                                       "register functions before calling run",
                                       name));
      return false;
    }
    if (versioned && version.empty()) {
      r.problems.push_back(fmt::format("'{}' is registered with an empty version; give "
                                       "MPIPLY_REGISTER_VERSIONED a version string such as \"v1\"",
                                       name));
      return false;
    }
    std::uint64_t id = hash_name(name);
    auto it = r.by_id.find(id);
    if (it != r.by_id.end()) {
      if (it->second.key == key) {  // the same function again
        if (it->second.version != version) {
          r.problems.push_back(fmt::format("'{}' is registered with two versions ('{}' and "
                                           "'{}'); keep one",
                                           name, it->second.version, version));
          return false;
        }
        if (it->second.collective == collective) return true;
        r.problems.push_back(fmt::format(
            "'{}' is registered both with MPIPLY_REGISTER and MPIPLY_REGISTER_COLLECTIVE; keep "
            "one",
            name));
        return false;
      }
      r.problems.push_back(
          it->second.name == name
              ? fmt::format("two different functions are registered as '{}'; give one "
                            "another name with MPIPLY_REGISTER_AS",
                            name)
              : fmt::format("'{}' and '{}' hash to the same id; rename one", name,
                            it->second.name));
      return false;
    }
    r.by_id.emplace(id, FunctionEntry{name, std::move(signature), id, key, fn, invoke, collective,
                                      std::move(version)});
    r.by_key[key] = id;
    return true;
  } catch (...) {
    return false;
  }
}

void remove_function(std::string_view name) noexcept {
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  if (r.frozen.load(std::memory_order_acquire)) return;
  auto it = r.by_id.find(hash_name(name));
  if (it == r.by_id.end()) return;
  r.by_key.erase(it->second.key);
  r.by_id.erase(it);
}

const FunctionEntry* find_by_id(std::uint64_t id) noexcept {
  Registry& r = registry();
  if (std::uint64_t g = frozen_generation(r); g != ~std::uint64_t(0)) {
    if (t_last.generation == g && t_last.entry != nullptr && t_last.id == id) return t_last.entry;
    auto it = r.by_id.find(id);
    if (it == r.by_id.end()) return nullptr;
    t_last = {g, id, it->second.key, &it->second};
    return &it->second;
  }
  std::lock_guard lk(r.mu);
  auto it = r.by_id.find(id);
  return it == r.by_id.end() ? nullptr : &it->second;
}

const FunctionEntry& lookup_by_key(const void* key) {
  Registry& r = registry();
  std::uint64_t g = frozen_generation(r);
  if (g != ~std::uint64_t(0) && t_last.generation == g && t_last.entry != nullptr &&
      t_last.key == key)
    return *t_last.entry;
  std::unique_lock lk(r.mu, std::defer_lock);
  if (g == ~std::uint64_t(0)) lk.lock();
  auto it = r.by_key.find(key);
  if (it == r.by_key.end()) {
    // Name it when the symbol tables can; a stripped binary leaves only the address.
    std::string name = function_name_at(key);
    std::string what = name.empty() ? fmt::format("at {}", key) : fmt::format("{} (at {})", name, key);
    throw UsageError(fmt::format(
        "mpiply: the function {} is not registered, so engines cannot run it. Registered: {}. "
        "Add MPIPLY_REGISTER(name) after its definition",
        what, names_list(r)));
  }
  const FunctionEntry& e = r.by_id.at(it->second);
  if (g != ~std::uint64_t(0)) t_last = {g, e.id, key, &e};
  return e;
}

const FunctionEntry& lookup_by_name(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  auto it = r.by_id.find(hash_name(name));
  if (it == r.by_id.end() || it->second.name != name)
    throw UsageError(fmt::format("mpiply: no function is registered as '{}'. Registered: {}",
                                 name, names_list(r)));
  return it->second;
}

std::vector<std::string> registered_names() {
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  return sorted_names(r);
}

std::vector<NamedSignature> registered_signatures() {
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  std::vector<NamedSignature> out;
  for (const auto& [id, e] : r.by_id)
    out.push_back({e.name, e.collective ? e.signature + " [collective]" : e.signature});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::vector<std::string> registration_problems() {
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  return r.problems;
}

std::string function_name(std::uint64_t id) {
  if (id == 0) return {};
  const FunctionEntry* e = find_by_id(id);
  return e ? e->name : fmt::format("{:#x}", id);
}

}  // namespace mpiply::detail
