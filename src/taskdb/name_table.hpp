#pragma once
// The names (function, code identity, host) a TaskDb's caller interns once, so that appending a
// task copies no name and packing a row compares none: TaskRow::function_name, code_name and
// host_name are ids into this table, valid for the database's lifetime.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mpiply::detail {

class NameTable {
 public:
  // db_path: for the error message when the table is full.
  explicit NameTable(const std::string& db_path) : path_(db_path) {}
  NameTable(const NameTable&) = delete;
  NameTable& operator=(const NameTable&) = delete;

  // The same text gives the same id, never 0 (0 in a TaskRow means "not given").
  std::uint32_t intern(std::string_view text);
  // Fills out with every name so far, out[id - 1]. The strings never move, so the writer thread
  // packs rows through these pointers without holding the table's lock.
  void snapshot(std::vector<const std::string*>& out) const;

 private:
  const std::string& path_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<const std::string>> names_;
  std::unordered_map<std::string_view, std::uint32_t> ids_;  // views into names_
};

}  // namespace mpiply::detail
