#pragma once
// The scheduler's small helpers on msg id lists, for the messages of its dependency checks
// (admission.cpp).
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/errors.hpp>
#include <mpiply/metadata.hpp>

namespace mpiply::detail {

inline std::vector<MsgId> sorted_ids(std::vector<MsgId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// "msg ids 3, 4 and 7" for messages, shortened when long.
inline std::string id_list(const std::vector<MsgId>& ids) {
  if (ids.size() <= 8) return fmt::format("{}", fmt::join(ids, ", "));
  return fmt::format("{}, ... ({} tasks)",
                     fmt::join(std::vector<MsgId>(ids.begin(), ids.begin() + 8), ", "), ids.size());
}

}  // namespace mpiply::detail
