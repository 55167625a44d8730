// An engine's namespace: typed access with errors that name the engine, the name and the fix.
#include <mpiply/detail/namespace_store.hpp>

#include <cstring>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

namespace {
std::string list_names(const std::vector<std::string>& names) {
  return names.empty() ? std::string("it is empty") : fmt::format("it has {}", fmt::join(names, ", "));
}
}  // namespace

void NamespaceStore::throw_missing(std::string_view name) const {
  throw UsageError(fmt::format("engine {} has no '{}' in its namespace ({}); push or scatter it "
                               "first",
                               engine_id_, name, list_names(names_locked())));
}

NamespaceStore::Entry& NamespaceStore::find(std::string_view name, const char* tag,
                                            const std::string& readable) {
  auto it = entries_.find(name);
  if (it == entries_.end())
    throw_missing(name);
  if (it->second.type != tag)
    throw UsageError(fmt::format("engine {}: '{}' holds a {}, not a {}; ask for the type that "
                                 "was pushed",
                                 engine_id_, name, demangle(it->second.type.c_str()), readable));
  return it->second;
}

NamespaceStore::Entry& NamespaceStore::slot(std::string name) { return entries_[std::move(name)]; }

Bytes& NamespaceStore::set_raw(const std::string& name, std::string_view type, std::size_t size) {
  std::lock_guard lk(mu_);
  Entry& e = entries_[name];
  e.type = type;
  e.value.reset();
  e.encode_any = nullptr;
  e.raw.resize(size);
  e.has_raw = true;
  changed();
  return e.raw;
}

bool NamespaceStore::erase(std::string_view name) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  entries_.erase(it);
  changed();
  return true;
}

std::vector<std::string> NamespaceStore::names_locked() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : entries_) out.push_back(k);
  return out;
}

std::string NamespaceStore::type_of(std::string_view name) const {
  std::lock_guard lk(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? std::string() : demangle(it->second.type.c_str());
}

std::size_t NamespaceStore::encode_for_pull(std::string_view name,
                                            const std::vector<std::string>& types, Writer& w) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end())
    throw_missing(name);
  Entry& e = it->second;
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (types[i] != e.type) continue;
    if (e.has_raw)
      w.raw(e.raw.data(), e.raw.size());
    else
      e.encode_any(e.value, w);
    return i;
  }
  throw UsageError(fmt::format("engine {}: '{}' holds a {}, not a {}; pull it with the type it "
                               "was pushed as",
                               engine_id_, name, demangle(e.type.c_str()),
                               demangle(types.empty() ? "" : types[0].c_str())));
}

bool NamespaceStore::view_for_pull(std::string_view name, std::string_view type, std::size_t elem,
                                   std::span<const char>& view) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second.type != type || elem == 0) return false;
  Entry& e = it->second;
  if (e.has_raw) {  // a pushed vector, as encoded: u64 count, then the elements
    std::uint64_t n = 0;
    if (e.raw.size() < sizeof n) return false;
    std::memcpy(&n, e.raw.data(), sizeof n);
    std::size_t bytes = e.raw.size() - sizeof n;
    if (n != bytes / elem || bytes % elem != 0) return false;
    view = {e.raw.data() + sizeof n, bytes};
    return true;
  }
  if (!e.view_any || !e.value.has_value()) return false;
  view = e.view_any(e.value);
  return view.size() % elem == 0;
}

}  // namespace mpiply::detail
