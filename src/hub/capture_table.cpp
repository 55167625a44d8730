// The hub's captured output and resource use per task (capture_table.hpp).
#include "hub/capture_table.hpp"

namespace mpiply::detail {

void CaptureTable::record(std::size_t i, std::int64_t user_ns, std::int64_t system_ns,
                          std::int64_t max_rss, std::string_view out, std::string_view err) {
  usage_.set(i, user_ns, system_ns, max_rss);
  if (!out.empty() || !err.empty())
    outputs_[i] = {std::string(out), std::string(err)};
  else if (!outputs_.empty())  // the common case, a silent job, hashes nothing
    outputs_.erase(i);
}

const CaptureTable::TaskOutput* CaptureTable::output(std::size_t i) const {
  if (outputs_.empty()) return nullptr;
  auto it = outputs_.find(i);
  return it != outputs_.end() ? &it->second : nullptr;
}

void CaptureTable::release(std::size_t i) {
  if (!outputs_.empty()) outputs_.erase(i);
  usage_.release(i);
}

}  // namespace mpiply::detail
