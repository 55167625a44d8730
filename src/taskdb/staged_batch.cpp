// Packing a staged batch into the row format, on the task database's writer thread.
#include "taskdb/staged_batch.hpp"

namespace mpiply::detail {

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
    packed.add(r, false);
  }
}

}  // namespace mpiply::detail
