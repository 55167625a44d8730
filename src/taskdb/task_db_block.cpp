// Reading the task database's packed rows (layout in task_db_block.hpp and docs/database.md),
// field by field as BlockEncoder and BlockStrings write them, every read bounds-checked.
#include "taskdb/task_db_block.hpp"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "taskdb/checksum.hpp"
#include "taskdb/varint.hpp"

namespace mpiply::detail {

namespace {

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

}  // namespace

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
    r.reused = (st8 & kBlockReusedBit) != 0;
    r.status = static_cast<TaskStatus>(st8 & ~kBlockReusedBit);
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
