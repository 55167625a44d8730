// Writing one record of a packed row (block_encoder.hpp); decode_block (task_db_block.cpp)
// reads the same fields back in the same order.
#include "taskdb/block_encoder.hpp"

#include <cstring>

#include "taskdb/checksum.hpp"
#include "taskdb/task_db_block.hpp"
#include "taskdb/varint.hpp"

namespace mpiply::detail {

namespace {

// Room for one record's fixed part: 14 varints, two bytes, the 16-byte key and the 8-byte
// result checksum. Reserved once per record (with the error text's length and its varint), so
// no field checks capacity.
constexpr std::size_t kMaxFixed = 14 * kMaxVarintBytes + 2 + 16 + 8;

}  // namespace

void BlockEncoder::add(const TaskRow& r) {
  counts_.add(r.msg_id, r.status, r.reused);
  // Interned in this order (function, host, code): it fixes the row's string numbers.
  std::uint64_t fn = strings_.function(r.function_name, r.function);
  std::uint64_t host = strings_.host(r.host_name, r.engine, r.hostname);
  std::uint64_t code = strings_.code(r.code_name, r.code);
  // Computed here, on the writer thread, over the bytes as they are written.
  std::uint64_t sum = checksums ? result_checksum({r.result.data(), r.result.size()}) : 0;

  std::size_t start = meta_.size();
  char* p = meta_.grow(kMaxFixed + kMaxVarintBytes + r.error.size());
  p = put_varint(p, zigzag(static_cast<std::int64_t>(r.msg_id - prev_msg_)));
  prev_msg_ = r.msg_id;
  *p++ = static_cast<char>(static_cast<std::uint8_t>(r.status) | (r.reused ? kBlockReusedBit : 0));
  p = put_varint(p, fn);
  p = put_varint(p, code);
  std::memcpy(p, &r.key.hi, 8);
  std::memcpy(p + 8, &r.key.lo, 8);
  p += 16;
  const std::int64_t times[4] = {r.submitted, r.started, r.completed, r.received};
  char* mask = p++;
  *mask = 0;
  // Each time as the difference from the previous one written: micro- to milliseconds apart.
  for (int i = 0; i < 4; ++i) {
    if (times[i] == 0) continue;
    *mask = static_cast<char>(*mask | (1 << i));
    p = put_varint(p, zigzag(times[i] - prev_time_));
    prev_time_ = times[i];
  }
  p = put_varint(p, zigzag(r.engine));
  p = put_varint(p, r.thread);
  p = put_varint(p, host);
  p = put_varint(p, zigzag(r.pid));
  p = put_varint(p, r.items);
  p = put_varint(p, r.error.size());
  if (!r.error.empty()) std::memcpy(p, r.error.data(), r.error.size());
  p += r.error.size();
  p = put_varint(p, r.result.size());
  std::memcpy(p, &sum, 8);
  p += 8;
  meta_.resize(start + static_cast<std::size_t>(p - (meta_.data() + start)));
}

void BlockEncoder::clear() {
  meta_.clear();
  strings_.clear();
  counts_.clear();
  prev_msg_ = 0;
  prev_time_ = 0;
}

}  // namespace mpiply::detail
