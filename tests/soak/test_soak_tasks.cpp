// Soak: a million tasks through rank 0, and its memory per task bounded. A chunksize-1 map of a
// no-op over 10^6 ints, with 2*10^4 applies submitted while it runs, every value checked; rank
// 0's peak resident memory across the run, less its resident memory before, divided by the
// number of tasks, must stay under kRecordBytes + kPeakOverhead, and what it keeps once the
// results are dropped under kRecordBytes + kKeptOverhead.
//
// The bounds are the task record (48 bytes, static_assert in src/hub/task_record.hpp, docs/hub.md)
// plus a stated fixed overhead per task. Kept (44 B): the record's share of whole 6 MiB blocks
// (up to 131,072 records each), the submissions' 8 MiB block over 2*10^4 applies (~8 B/task),
// the map's inputs and the applies' arguments kept for resubmit (~8 B), and allocator slack. At
// the peak (84 B) also the map's AsyncMapResult (an optional<int> and 5 bytes of item state per
// item), get()'s vector and the test's own input and output vectors (~30 B). A record grown to
// twice its size (96 B) fails both bounds, as would a per-task copy of a message or a per-task
// heap object.
#include <catch2/catch.hpp>

#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <mpiply/mpiply.hpp>

#include "soak/soak_support.hpp"
#include "support.hpp"

namespace {

constexpr double kRecordBytes = 48;
constexpr double kKeptOverhead = 44;
constexpr double kPeakOverhead = 84;
constexpr std::size_t kMapTasks = 1'000'000;
constexpr std::size_t kApplies = 20'000;

int soak_noop(int x) { return x; }

}  // namespace

MPIPLY_REGISTER(soak_noop);

TEST_CASE("10^6 tasks: every value comes back and rank 0's memory per task stays bounded",
          "[soak]") {
  long long before = 0, peak = 0, after = 0;
  std::size_t wrong = 0, tasks = 0;
  int rc = mpiply_test::run_client([&](mpiply::Client& c) {
    malloc_trim(0);
    before = mpiply_test::vm_bytes("VmRSS:");
    REQUIRE(before > 0);
    {
      auto lb = c.load_balanced_view();
      std::vector<int> xs(kMapTasks);
      std::iota(xs.begin(), xs.end(), 0);
      auto amr = lb.map_async(soak_noop, xs, {.chunksize = 1});
      std::vector<mpiply::AsyncResult<int>> applies;
      applies.reserve(kApplies);
      for (std::size_t i = 0; i < kApplies; ++i)
        applies.push_back(lb.apply_async(soak_noop, static_cast<int>(i) + 7));
      std::vector<int> got = amr.get(mpiply::Seconds(600));
      REQUIRE(got.size() == kMapTasks);
      for (std::size_t i = 0; i < kMapTasks; ++i) wrong += got[i] != static_cast<int>(i);
      for (std::size_t i = 0; i < kApplies; ++i)
        wrong += applies[i].get(mpiply::Seconds(600)) != static_cast<int>(i) + 7;
      tasks = amr.msg_ids().size() + applies.size();
      peak = mpiply_test::vm_bytes("VmHWM:");
    }
    malloc_trim(0);
    after = mpiply_test::vm_bytes("VmRSS:");
  });
  REQUIRE(rc == 0);
  if (mpiply_test::world_rank() != 0) return;  // the engines' memory is not measured here
  CHECK(wrong == 0);
  REQUIRE(tasks == kMapTasks + kApplies);
  double peak_per_task = double(peak - before) / double(tasks);
  double kept_per_task = double(after - before) / double(tasks);
  std::printf("soak: %zu tasks; rank 0 peak growth %.1f B/task (bound %.0f), kept after the "
              "results were dropped %.1f B/task (bound %.0f)\n",
              tasks, peak_per_task, kRecordBytes + kPeakOverhead, kept_per_task,
              kRecordBytes + kKeptOverhead);
  if (mpiply_test::kAsan) {
    // ASan's quarantine and shadow memory make resident sizes meaningless; correctness only.
    WARN("memory bound not checked under AddressSanitizer");
    return;
  }
  CHECK(peak_per_task < kRecordBytes + kPeakOverhead);
  CHECK(kept_per_task < kRecordBytes + kKeptOverhead);
}
