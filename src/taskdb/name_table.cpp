// Interning the task database's names (name_table.hpp).
#include "taskdb/name_table.hpp"

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

std::uint32_t NameTable::intern(std::string_view text) {
  std::lock_guard lk(mu_);
  if (auto it = ids_.find(text); it != ids_.end()) return it->second;
  if (names_.size() >= 0xfffffffeu)
    throw UsageError(fmt::format("mpiply: task database '{}': too many distinct names", path_));
  names_.push_back(std::make_unique<const std::string>(text));
  auto id = static_cast<std::uint32_t>(names_.size());
  ids_.emplace(*names_.back(), id);
  return id;
}

void NameTable::snapshot(std::vector<const std::string*>& out) const {
  out.clear();
  std::lock_guard lk(mu_);
  for (const auto& n : names_) out.push_back(n.get());
}

}  // namespace mpiply::detail
