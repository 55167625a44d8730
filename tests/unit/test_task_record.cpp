// Rank 0's task table (src/hub/record_table.hpp) and the hub's kept results inside its records
// (src/hub/result_store.hpp): timestamps stay exact to the ns whatever their spread (32-bit deltas,
// a side table past them), and every size of kept result reads back as it was kept, through
// drop and reuse. Pure logic on rank 0's side; no messages.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <limits>
#include <vector>

#include "hub/record_table.hpp"
#include "hub/result_store.hpp"

using mpiply::detail::RecordTable;
using mpiply::detail::ResultStore;
using mpiply::detail::TaskRecord;
using mpiply::detail::TaskTimes;

namespace {

bool same(const TaskTimes& a, const TaskTimes& b) {
  return a.started == b.started && a.completed == b.completed && a.received == b.received;
}

// One ok result item (wire.hpp): u8 status 0, u32 length, the value bytes.
std::string ok_item(const std::string& value) {
  std::string s(1, '\0');
  auto n = static_cast<std::uint32_t>(value.size());
  s.append(reinterpret_cast<const char*>(&n), 4);
  return s + value;
}

}  // namespace

TEST_CASE("task timestamps read back exact to the ns, near and far apart", "[records]") {
  RecordTable t;
  const std::int64_t now = 1'790'000'000'123'456'789;  // 2026, ns since the epoch
  const std::vector<TaskTimes> cases = {
      {0, 0, 0},                                      // not finished
      {0, 0, now},                                    // failed on rank 0 before it started
      {now, now + 1500, now + 90'000},                // a short task
      {now, now + 2'147'483'647, now + 2'147'483'647 + 5},  // the longest narrow run
      {now, now + 2'147'483'648, now + 2'147'483'649},      // one ns longer: side table
      {now, now + 3'600'000'000'000, now + 3'600'000'000'007},  // an hour
      {now, now + 10, now - 5'000'000'000},           // an engine clock 5 s ahead of rank 0's
      {now, now - 2'147'483'648, now},                // completed < started by INT32_MIN ns
  };
  std::vector<TaskRecord*> recs;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    recs.push_back(&t.emplace_back());
    t.set_times(*recs.back(), cases[i]);
  }
  for (std::size_t i = 0; i < cases.size(); ++i) CHECK(same(t.times(*recs[i]), cases[i]));
  CHECK(t.wide_count() == 4);
  // A retried task stamped again: from wide to narrow and back, the side table follows.
  t.set_times(*recs[5], cases[2]);
  CHECK(same(t.times(*recs[5]), cases[2]));
  CHECK(t.wide_count() == 3);
  t.set_received(*recs[2], now + 7'000'000'000);
  CHECK(same(t.times(*recs[2]), TaskTimes{now, now + 1500, now + 7'000'000'000}));
  CHECK(t.wide_count() == 4);
  t.set_received(*recs[1], now + 1);  // received only, again
  CHECK(same(t.times(*recs[1]), TaskTimes{0, 0, now + 1}));
}

// Engines' stamps come off the wire: a corrupt result can carry any 64-bit values. Found by
// fuzz-result (regressions/result/timestamps-delta-overflow): the deltas overflowed (UBSan).
TEST_CASE("task timestamps whose differences overflow 64 bits read back exact", "[records]") {
  RecordTable t;
  constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  const std::vector<TaskTimes> cases = {
      {lo, hi, lo}, {hi, lo, hi}, {-9'223'090'561'878'067'152, 1'688'867'048'063'976, 0},
      {1, hi, lo}};
  for (const TaskTimes& c : cases) {
    TaskRecord& r = t.emplace_back();
    t.set_times(r, c);
    CHECK(same(t.times(r), c));
  }
  CHECK(t.wide_count() == cases.size());
}

TEST_CASE("the task table grows over many blocks without moving a record", "[records]") {
  RecordTable t;
  const std::size_t n = 3 * RecordTable::kBlock + 17;
  std::vector<TaskRecord*> at;
  for (std::size_t i = 0; i < n; ++i) {
    TaskRecord& r = t.emplace_back();
    r.first_item = i;
    if (i % 4096 == 0) at.push_back(&r);
  }
  REQUIRE(t.size() == n);
  for (std::size_t k = 0; k < at.size(); ++k) CHECK(&t[k * 4096] == at[k]);
  for (std::size_t i = 0; i < n; i += 997) CHECK(t[i].first_item == i);
  // A block fills whole 2 MiB pages.
  CHECK((RecordTable::kBlock * sizeof(TaskRecord)) % (std::size_t(2) << 20) == 0);
}

TEST_CASE("kept results of every size read back as kept, through drop and reuse", "[records]") {
  RecordTable t;
  ResultStore store(t);
  std::string eight = "\x01\x02\x03\x04\x05\x06\x07\x08";
  std::string err_item = std::string(1, '\x01') + std::string("\x08\0\0\0", 4) + eight;
  const std::vector<std::string> kept = {
      "",                                // nothing kept
      "\xfe\x05",                        // a rank-0 failure marker, 2 bytes: in the record
      ok_item(eight),                    // a single 8-byte value: packed into the record
      ok_item(std::string("\x2a\0\0\0", 4)),  // an int, 9 bytes: packed too
      ok_item(""),                       // an empty value, 5 bytes: in the record
      err_item,                          // 13 bytes but not an ok item: not packed
      ok_item("1234567"),                // 12 bytes: a shared block
      ok_item(std::string(4091, 'x')),   // 4096 bytes: still shared
      ok_item(std::string(1 << 20, 'y')),  // a megabyte: an allocation of its own
  };
  for (std::size_t i = 0; i < kept.size(); ++i) t.emplace_back();
  std::size_t before = store.bytes_held();
  for (std::size_t i = 0; i < kept.size(); ++i) store.keep(i, kept[i].data(), kept[i].size());
  CHECK(store.bytes_held() - before >= (std::size_t(1) << 20));
  for (std::size_t i = 0; i < kept.size(); ++i) {
    ResultStore::Unpacked buf;
    CHECK(std::string(store.bytes(i, buf)) == kept[i]);
  }
  // Each slot takes another size; the old bytes go back.
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const std::string& other = kept[kept.size() - 1 - i];
    store.keep(i, other.data(), other.size());
  }
  for (std::size_t i = 0; i < kept.size(); ++i) {
    ResultStore::Unpacked buf;
    CHECK(std::string(store.bytes(i, buf)) == kept[kept.size() - 1 - i]);
  }
  for (std::size_t i = 0; i < kept.size(); ++i) store.drop(i);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    ResultStore::Unpacked buf;
    CHECK(store.bytes(i, buf).empty());
  }
  CHECK(store.bytes_held() <= before + (std::size_t(4) << 20));  // at most the block in use
}

// Purged and culled tasks give their records back (docs/hub.md, "Memory"): a block goes once
// none of its records is live, the msg ids of a freed block still say why they are gone, and a
// freed block reads as a finished, purged tombstone instead of freed memory.
TEST_CASE("released records free their block once it has none live", "[records][keep]") {
  using mpiply::detail::Gone;
  using mpiply::detail::kCulled;
  using mpiply::detail::kRecordPurged;
  RecordTable t;
  const std::size_t B = RecordTable::kBlock;
  const std::size_t n = 3 * B + 5;
  for (std::size_t i = 0; i < n; ++i) t.emplace_back().first_item = i;
  CHECK(t.blocks_held() == 4);
  // A task of block 0 ran for an hour: its times are in the side table, which its release empties.
  t.set_times(t[7], {1, 3'600'000'000'000, 3'600'000'000'001});
  CHECK(t.wide_count() == 1);
  auto release = [&](std::size_t i, bool culled) {
    t[i].hub |= kRecordPurged;
    if (culled) t[i].hub |= kCulled;
    t.release(i);
  };
  // Block 0: all purged but one; the block stays until that one goes too.
  for (std::size_t i = 0; i + 1 < B; ++i) release(i, false);
  CHECK(t.present(0));
  CHECK(t.blocks_held() == 4);
  CHECK(t.gone(3) == Gone::purged);
  CHECK(t.gone(B - 1) == Gone::no);
  CHECK(t[B - 1].first_item == B - 1);
  release(B - 1, true);
  CHECK_FALSE(t.present(0));
  CHECK(t.blocks_held() == 3);
  CHECK(t.wide_count() == 0);
  // Block 0's ids keep why: purged, except the last, culled.
  CHECK(t.gone(0) == Gone::purged);
  CHECK(t.gone(B - 2) == Gone::purged);
  CHECK(t.gone(B - 1) == Gone::culled);
  // Block 1 all culled: one flag for the block.
  for (std::size_t i = B; i < 2 * B; ++i) release(i, true);
  CHECK(t.blocks_held() == 2);
  CHECK(t.gone(B) == Gone::culled);
  CHECK(t.gone(2 * B - 1) == Gone::culled);
  // A freed block's record reads as a tombstone: finished, purged, no items.
  const TaskRecord& tomb = t[5];
  CHECK(tomb.status == mpiply::TaskStatus::ok);
  CHECK((tomb.hub & kRecordPurged) != 0);
  CHECK(tomb.nitems == 0);
  // The other blocks are untouched, and the table keeps growing (into the spare block first).
  for (std::size_t i = 2 * B; i < n; i += 4099) CHECK(t[i].first_item == i);
  for (std::size_t i = 0; i < B; ++i) t.emplace_back().first_item = n + i;
  CHECK(t.blocks_held() == 3);
  CHECK(t[n + B - 1].first_item == n + B - 1);
  CHECK(t.gone(n) == Gone::no);
}

// A stream of tasks released oldest first holds a bounded number of blocks, however many pass.
TEST_CASE("a stream of released records holds a bounded number of blocks", "[records][keep]") {
  RecordTable t;
  const std::size_t B = RecordTable::kBlock, live = 1000;
  std::size_t most = 0;
  for (std::size_t i = 0; i < 10 * B; ++i) {
    t.emplace_back();
    if (i >= live) {
      t[i - live].hub |= mpiply::detail::kRecordPurged;
      t.release(i - live);
    }
    most = std::max(most, t.blocks_held());
  }
  CHECK(most <= 2);
}
