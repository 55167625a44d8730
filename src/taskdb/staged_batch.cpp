// Staging a task into a batch on the appending thread, and packing a staged batch into the row
// format on the task database's writer thread.
#include "taskdb/staged_batch.hpp"

#include <algorithm>
#include <cstring>

namespace mpiply::detail {

void StagedBatch::add(const TaskRow& row) {
  auto narrow = [](std::size_t n) {  // names and errors longer than 4 GiB are cut
    return static_cast<std::uint32_t>(std::min<std::size_t>(n, 0xffffffffu));
  };
  // A name given as an id (TaskDb::name) is not copied: the writer finds it in the NameTable.
  auto len = [&](std::uint32_t id, std::string_view v) { return id != 0 ? 0 : narrow(v.size()); };
  StagedRow s{row.msg_id,    row.key,       row.submitted,     row.started,
              row.completed, row.received,  row.pid,           row.items,
              row.result.size(), row.engine, row.thread,
              len(row.function_name, row.function), len(row.code_name, row.code),
              len(row.host_name, row.hostname), narrow(row.error.size()),
              row.function_name, row.code_name, row.host_name,
              row.status, row.reused};
  rows.push_back(s);
  if (std::size_t n = std::size_t(s.function_len) + s.code_len + s.hostname_len + s.error_len;
      n != 0) {
    char* t = text.grow(n);
    if (s.function_len) std::memcpy(t, row.function.data(), s.function_len);
    t += s.function_len;
    if (s.code_len) std::memcpy(t, row.code.data(), s.code_len);
    t += s.code_len;
    if (s.hostname_len) std::memcpy(t, row.hostname.data(), s.hostname_len);
    t += s.hostname_len;
    if (s.error_len) std::memcpy(t, row.error.data(), s.error_len);
  }
  results.append(row.result.data(), row.result.size());
}

void StagedBatch::pack(bool checksums, std::span<const std::string* const> names) {
  packed.clear();
  packed.checksums = checksums;
  std::size_t at = 0, off = 0;
  TaskRow r;  // every field add reads is set for each row below
  for (const StagedRow& s : rows) {
    r.msg_id = s.msg_id;
    r.key = s.key;
    r.status = s.status;
    r.reused = s.reused;
    r.submitted = s.submitted;
    r.started = s.started;
    r.completed = s.completed;
    r.received = s.received;
    r.engine = s.engine;
    r.thread = s.thread;
    r.pid = s.pid;
    r.items = s.items;
    // A name given as an id has no text here (append copied none).
    auto name = [&](std::uint32_t id, std::uint32_t len) -> std::string_view {
      if (id != 0) return *names[id - 1];
      std::string_view v{text.data() + at, len};
      at += len;
      return v;
    };
    r.function = name(s.function_name, s.function_len);
    r.code = name(s.code_name, s.code_len);
    r.hostname = name(s.host_name, s.hostname_len);
    r.function_name = s.function_name;
    r.code_name = s.code_name;
    r.host_name = s.host_name;
    r.error = {text.data() + at, s.error_len};
    at += s.error_len;
    r.result = {results.data() + off, s.result_len};
    off += s.result_len;
    packed.add(r);
  }
}

}  // namespace mpiply::detail
