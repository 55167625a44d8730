#pragma once
// Names kept once, by id: every submission of a function carries the same name, so the hub keeps
// an id per submission instead of a copy of the string.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mpiply::detail {

class InternedNames {
 public:
  InternedNames() { names_.emplace_back(); }  // id 0: the empty name
  InternedNames(const InternedNames&) = delete;
  InternedNames& operator=(const InternedNames&) = delete;

  std::uint32_t intern(std::string_view name) {
    if (name.empty()) return 0;
    if (names_[last_] == name) return last_;  // a loop of calls repeats the last name
    auto it = ids_.find(std::string(name));
    if (it == ids_.end()) {
      it = ids_.emplace(std::string(name), static_cast<std::uint32_t>(names_.size())).first;
      names_.emplace_back(name);
    }
    return last_ = it->second;
  }
  const std::string& name(std::uint32_t id) const { return names_[id]; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::uint32_t> ids_;  // every name but the empty one
  std::uint32_t last_ = 0;
};

}  // namespace mpiply::detail
