#pragma once
// The strings blob of a packed row (task_db_block.hpp): each function name, code identity and
// host name the row's records use, stored once, and the number a record gives in its place.
// Interning runs on the writer thread for every record, so the common cases skip the hash
// table: a name given as a TaskDb::name id (the id stands for the text), a function or code
// identity equal to the previous record's, an engine's host (checked, not assumed).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mpiply::detail {

class BlockStrings {
 public:
  // A record's string numbers, interned in this row. name: the TaskDb::name id the record
  // gives for the text, 0 when it gives only the text. A row's numbers follow the order of
  // first use, so a record's names are interned in a fixed order: function, host, code.
  std::uint64_t function(std::uint32_t name, std::string_view text) {
    return name != 0 ? named(name, text) : repeated(last_fn_, text);
  }
  std::uint64_t host(std::uint32_t name, std::int32_t engine, std::string_view text) {
    return name != 0 ? named(name, text) : engine_host(engine, text);
  }
  std::uint64_t code(std::uint32_t name, std::string_view text) {
    return name != 0 ? named(name, text) : repeated(last_code_, text);
  }

  // The strings blob: a varint count, then each string as a varint length and its bytes, in
  // number order. Call once, after the row's last record.
  std::string blob() const;
  // Ready for the next row; the per-engine and per-name tables keep their capacity.
  void clear();

 private:
  std::uint64_t intern(std::string_view s);
  // The number of the string a record used last time in this field, when s is the same.
  std::uint64_t repeated(std::uint64_t& last, std::string_view s) {
    if (last < table_.size() && table_[last] == s) return last;
    return last = intern(s);
  }
  std::uint64_t engine_host(std::int32_t engine, std::string_view host);
  std::uint64_t named(std::uint32_t name, std::string_view s) {
    if (name < by_name_.size() && by_name_[name] != 0) return by_name_[name] - 1;
    return named_first(name, s);
  }
  std::uint64_t named_first(std::uint32_t name, std::string_view s);  // once per name and row

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::vector<std::string> table_;  // by string number
  std::unordered_map<std::string, std::uint64_t, Hash, std::equal_to<>> ids_;
  std::uint64_t last_fn_ = ~std::uint64_t(0), last_code_ = ~std::uint64_t(0);
  std::vector<std::uint64_t> host_of_engine_;  // string number + 1, 0 = none yet in this row
  std::vector<std::uint64_t> by_name_;         // by TaskDb::name id: likewise
};

}  // namespace mpiply::detail
