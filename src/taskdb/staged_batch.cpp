// Packing a staged batch into the row format, on the task database's writer thread.
#include "taskdb/staged_batch.hpp"

namespace mpiply::detail {

void StagedBatch::pack(bool checksums) {
  packed.clear();
  packed.checksums = checksums;
  std::size_t at = 0, off = 0;
  for (const StagedRow& s : rows) {
    TaskRow r;
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
    r.function = {text.data() + at, s.function_len};
    at += s.function_len;
    r.code = {text.data() + at, s.code_len};
    at += s.code_len;
    r.hostname = {text.data() + at, s.hostname_len};
    at += s.hostname_len;
    r.error = {text.data() + at, s.error_len};
    at += s.error_len;
    r.result = {results.data() + off, s.result_len};
    off += s.result_len;
    packed.add(r, false);
  }
}

}  // namespace mpiply::detail
