#pragma once
// bench: the task database's cost (docs/database.md). The same chunksize-1 map of a no-op, in
// three more runs of mpiply::run on the same ranks, alternating: without a database, recording
// into a fresh one (resume off, so every repetition really runs), and resuming from it (every
// task filled from the database, none sent). Rank 0 prints one row: items/s and the ratios.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <mpiply/mpiply.hpp>

#include "common.hpp"

namespace bench {

// noop_item and timed_map are bench.cpp's.
template <class TimedMap>
void db_row(int argc, char** argv, const Config& cfg, TimedMap timed_map) {
  std::string path = fmt::format("/tmp/mpiply-bench-db-{}.db", getpid());  // rank 0's is used
  auto remove_db = [&] {
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
  };
  remove_db();
  std::vector<std::int64_t> items(static_cast<std::size_t>(cfg.map1_items));
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = static_cast<std::int64_t>(i);
  std::vector<double> off, on;
  double resumed = 0;
  auto one = [&](std::optional<std::string> db, std::optional<bool> resume,
                 std::vector<double>* rates, double* single) {
    mpiply::RunOptions o;
    o.db = db;
    o.db_resume = resume;
    return mpiply::run(argc, argv, o, [&](mpiply::Client& rc) {
      timed_map(rc, std::vector<std::int64_t>(items.begin(), items.begin() + 1000), 1);  // warm-up
      double dt = timed_map(rc, items, 1);
      if (rates) rates->push_back(double(items.size()) / dt);
      if (single) *single = double(items.size()) / dt;
      return 0;
    });
  };
  int code = 0;
  for (int r = 0; r < cfg.map1_repeats && code == 0; ++r) {
    code = one(std::nullopt, std::nullopt, &off, nullptr);
    if (code == 0) code = one(path, false, &on, nullptr);
  }
  if (code == 0) code = one(path, true, nullptr, &resumed);
  remove_db();
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0 || code != 0) return;
  double moff = median(off), mon = median(on);
  fmt::print("task database: map chunksize 1, {} items: off {:.0f} items/s, on (recording) "
             "{:.0f} items/s = {:.2f} of off; resumed from it (nothing sent) {:.0f} items/s\n",
             items.size(), moff, mon, mon / moff, resumed);
}

}  // namespace bench
