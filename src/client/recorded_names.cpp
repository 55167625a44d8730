// The names recorded with each task, interned once per database (recorded_names.hpp).
#include <mpiply/detail/registry.hpp>

#include "client/recorded_names.hpp"
#include "runtime/build_id.hpp"

namespace mpiply::detail {

void RecordedNames::reset(TaskDb* db) {
  db_ = db;
  functions_.clear();
  last_fn_ = nullptr;
  hosts_.clear();
}

const RecordedNames::Function& RecordedNames::function(std::uint64_t fn_id) {
  if (last_fn_ && last_fn_id_ == fn_id) return *last_fn_;
  auto it = functions_.find(fn_id);
  if (it != functions_.end()) {
    last_fn_id_ = fn_id;
    last_fn_ = &it->second;
    return it->second;
  }
  const FunctionEntry* fe = find_by_id(fn_id);
  std::string name = fe ? fe->name : std::string();
  // A version given at registration stands for the function's code across rebuilds; otherwise
  // the build of the whole program does.
  std::string code = fe && !fe->version.empty() ? "version:" + fe->version
                                                : "build:" + build_id().hex;
  Function f{name, KeyHasher(name), fe && fe->collective, std::move(code)};
  f.name_id = db_->name(f.name);
  f.code_id = db_->name(f.code);
  last_fn_id_ = fn_id;
  last_fn_ = &functions_.emplace(fn_id, std::move(f)).first->second;
  return *last_fn_;
}

std::uint32_t RecordedNames::host(int engine) {
  auto e = static_cast<std::size_t>(engine);
  if (e >= hosts_.size()) hosts_.resize(e + 1, 0);
  if (hosts_[e] == 0) hosts_[e] = db_->name(roster_.engine_info(engine).hostname);
  return hosts_[e];
}

}  // namespace mpiply::detail
