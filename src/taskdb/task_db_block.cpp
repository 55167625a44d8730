// Encoding and decoding of the task database's packed rows (layout in task_db_block.hpp and
// docs/database.md). Varints are LEB128; signed values are zigzag-coded first.
#include "taskdb/task_db_block.hpp"

#include <cstring>

#include <fmt/format.h>

#include "taskdb/checksum.hpp"

namespace mpiply::detail {

namespace {

void put_varint(std::string& out, std::uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, static_cast<std::size_t>(n));
}
// Into room the caller reserved (at most 10 bytes); returns the end.
inline char* put_varint(char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

struct In {
  std::string_view s;
  std::size_t pos = 0;
  const char* what;
  [[noreturn]] void bad(const char* why) const {
    throw ValueDecodeError(fmt::format("mpiply: a packed row of the task database is malformed ({} at "
                                  "byte {} of its {} blob)",
                                  why, pos, what));
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= s.size()) bad("truncated varint");
      auto b = static_cast<unsigned char>(s[pos++]);
      v |= std::uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    bad("overlong varint");
  }
  std::string_view bytes(std::uint64_t n) {
    if (n > s.size() - pos) bad("length past the end");
    std::string_view r = s.substr(pos, n);
    pos += n;
    return r;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(bytes(1)[0]); }
  std::uint64_t u64() {
    std::uint64_t v;
    std::memcpy(&v, bytes(8).data(), 8);
    return v;
  }
};

constexpr std::uint8_t kReusedBit = 0x80;
// Room for one record's fixed part: 14 varints, two bytes, the 16-byte key and the 8-byte
// result checksum.
constexpr std::size_t kMaxFixed = 14 * 10 + 2 + 16 + 8;

}  // namespace

std::uint64_t BlockEncoder::intern(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  std::uint64_t id = table_.size();
  table_.emplace_back(s);
  ids_.emplace(table_.back(), id);
  return id;
}

std::uint64_t BlockEncoder::intern_host(std::int32_t engine, std::string_view host) {
  if (engine < 0) return intern(host);
  auto e = static_cast<std::size_t>(engine);
  if (e >= host_of_engine_.size()) host_of_engine_.resize(e + 1, 0);
  std::uint64_t id = host_of_engine_[e];
  if (id != 0 && table_[id - 1] == host) return id - 1;
  id = intern(host);
  host_of_engine_[e] = id + 1;
  return id;
}

std::uint64_t BlockEncoder::intern_named_first(std::uint32_t name, std::string_view s) {
  if (name >= by_name_.size()) by_name_.resize(std::size_t(name) + 1, 0);
  std::uint64_t id = intern(s);
  by_name_[name] = id + 1;
  return id;
}

void BlockEncoder::add(const TaskRow& r, bool copy_result) {
  if (count == 0) {
    min_msg = max_msg = r.msg_id;
  } else {
    min_msg = std::min(min_msg, r.msg_id);
    max_msg = std::max(max_msg, r.msg_id);
  }
  ++count;
  if (r.status == TaskStatus::ok) ++n_ok;
  else if (r.status == TaskStatus::error || r.status == TaskStatus::aborted) ++n_failed;
  if (r.reused) ++n_reused;

  std::uint64_t fn = r.function_name != 0 ? intern_named(r.function_name, r.function)
                     : last_fn_ < table_.size() && table_[last_fn_] == r.function
                         ? last_fn_
                         : (last_fn_ = intern(r.function));
  std::uint64_t host = r.host_name != 0 ? intern_named(r.host_name, r.hostname)
                                        : intern_host(r.engine, r.hostname);
  std::uint64_t code = r.code_name != 0 ? intern_named(r.code_name, r.code)
                       : last_code_ < table_.size() && table_[last_code_] == r.code
                           ? last_code_
                           : (last_code_ = intern(r.code));
  // Computed here, on the writer thread, over the bytes as they are written.
  std::uint64_t sum = checksums ? result_checksum({r.result.data(), r.result.size()}) : 0;

  std::size_t start = meta.size();
  char* p = meta.grow(kMaxFixed + 10 + r.error.size());
  p = put_varint(p, zigzag(static_cast<std::int64_t>(r.msg_id - prev_msg_)));
  prev_msg_ = r.msg_id;
  *p++ = static_cast<char>(static_cast<std::uint8_t>(r.status) | (r.reused ? kReusedBit : 0));
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
  meta.resize(start + static_cast<std::size_t>(p - (meta.data() + start)));
  if (copy_result) results.append(r.result.data(), r.result.size());
}

std::string BlockEncoder::finish_strings() const {
  std::string out;
  put_varint(out, table_.size());
  for (const std::string& s : table_) {
    put_varint(out, s.size());
    out += s;
  }
  return out;
}

void BlockEncoder::clear() {
  meta.clear();
  results.clear();
  count = n_ok = n_failed = n_reused = 0;
  min_msg = max_msg = 0;
  table_.clear();
  ids_.clear();
  last_fn_ = last_code_ = ~std::uint64_t(0);
  host_of_engine_.assign(host_of_engine_.size(), 0);
  by_name_.assign(by_name_.size(), 0);
  prev_msg_ = 0;
  prev_time_ = 0;
}

void decode_block(std::string_view strings, std::string_view meta, std::string_view results,
                  const BlockVisitor& fn) {
  In st{strings, 0, "strings"};
  std::uint64_t nstr = st.varint();
  if (nstr > strings.size()) st.bad("implausible string count");
  std::vector<std::string_view> table;
  table.reserve(nstr);
  for (std::uint64_t i = 0; i < nstr; ++i) table.push_back(st.bytes(st.varint()));
  auto name = [&](In& in) {
    std::uint64_t id = in.varint();
    if (id >= table.size()) in.bad("string id out of range");
    return table[id];
  };

  In in{meta, 0, "meta"};
  MsgId prev_msg = 0;
  std::int64_t prev_time = 0;
  std::uint64_t offset = 0;
  while (in.pos < meta.size()) {
    TaskRow r;
    r.msg_id = prev_msg + static_cast<MsgId>(unzigzag(in.varint()));
    prev_msg = r.msg_id;
    std::uint8_t st8 = in.u8();
    r.reused = (st8 & kReusedBit) != 0;
    r.status = static_cast<TaskStatus>(st8 & ~kReusedBit);
    r.function = name(in);
    r.code = name(in);
    r.key.hi = in.u64();
    r.key.lo = in.u64();
    std::uint8_t mask = in.u8();
    std::int64_t* times[4] = {&r.submitted, &r.started, &r.completed, &r.received};
    for (int i = 0; i < 4; ++i) {
      if (!(mask & (1u << i))) continue;
      *times[i] = prev_time + unzigzag(in.varint());
      prev_time = *times[i];
    }
    r.engine = static_cast<std::int32_t>(unzigzag(in.varint()));
    r.thread = static_cast<std::uint32_t>(in.varint());
    r.hostname = name(in);
    r.pid = unzigzag(in.varint());
    r.items = in.varint();
    r.error = in.bytes(in.varint());
    std::uint64_t len = in.varint();
    r.result_sum = in.u64();
    if (!results.empty()) {
      if (offset > results.size() || len > results.size() - offset)
        in.bad("result past the end of the results blob");
      r.result = {results.data() + offset, len};
    }
    fn(r, offset, len);
    offset += len;
  }
}

RowCheck check_row(bool has_sum, std::int64_t sum, std::string_view strings,
                   std::string_view meta) {
  if (!has_sum) return RowCheck::unchecked;
  return static_cast<std::uint64_t>(sum) == row_checksum(strings, meta) ? RowCheck::ok
                                                                         : RowCheck::damaged;
}

bool result_intact(const TaskRow& row) {
  return row.result_sum == result_checksum({row.result.data(), row.result.size()});
}

}  // namespace mpiply::detail
