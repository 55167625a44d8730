// The strings blob of a packed row (block_strings.hpp): interning a record's names and writing
// the blob that decode_block (task_db_block.cpp) reads back.
#include "taskdb/block_strings.hpp"

#include "taskdb/varint.hpp"

namespace mpiply::detail {

std::uint64_t BlockStrings::intern(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  std::uint64_t id = table_.size();
  table_.emplace_back(s);
  ids_.emplace(table_.back(), id);
  return id;
}

// An engine's host does not change during a run, but the text is compared, not assumed, so a
// record never carries a host that is not its own.
std::uint64_t BlockStrings::engine_host(std::int32_t engine, std::string_view host) {
  if (engine < 0) return intern(host);
  auto e = static_cast<std::size_t>(engine);
  if (e >= host_of_engine_.size()) host_of_engine_.resize(e + 1, 0);
  std::uint64_t id = host_of_engine_[e];
  if (id != 0 && table_[id - 1] == host) return id - 1;
  id = intern(host);
  host_of_engine_[e] = id + 1;
  return id;
}

// No comparison once a name id has a number in this row: the id stands for the text.
std::uint64_t BlockStrings::named_first(std::uint32_t name, std::string_view s) {
  if (name >= by_name_.size()) by_name_.resize(std::size_t(name) + 1, 0);
  std::uint64_t id = intern(s);
  by_name_[name] = id + 1;
  return id;
}

std::string BlockStrings::blob() const {
  std::string out;
  put_varint(out, table_.size());
  for (const std::string& s : table_) {
    put_varint(out, s.size());
    out += s;
  }
  return out;
}

void BlockStrings::clear() {
  table_.clear();
  ids_.clear();
  last_fn_ = last_code_ = ~std::uint64_t(0);
  host_of_engine_.assign(host_of_engine_.size(), 0);
  by_name_.assign(by_name_.size(), 0);
}

}  // namespace mpiply::detail
