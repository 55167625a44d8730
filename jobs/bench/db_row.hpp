#pragma once
// bench: the task database's cost (docs/database.md). The same chunksize-1 map of a no-op, in
// more runs of mpiply::run on the same ranks, alternating: without a database, recording into
// one (resume off, so every repetition really runs), recording with the checksums turned off
// (the bench knob MPIPLY_BENCH_NO_CHECKSUM=1, into a file of its own), and at the end resuming
// from the first (every task filled from the database, none sent). Rank 0 prints one row: items/s
// and the ratios db_map_ratio (on / off) and db_checksum_ratio (checksums on / off), also added
// to the --json file.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <mpiply/mpiply.hpp>

#include "common.hpp"

namespace bench {

// noop_item and timed_map are bench.cpp's.
template <class TimedMap>
void db_row(int argc, char** argv, const Config& cfg, TimedMap timed_map) {
  std::string path = fmt::format("/tmp/mpiply-bench-db-{}.db", getpid());  // rank 0's is used
  std::string bare = fmt::format("/tmp/mpiply-bench-db-{}-nosum.db", getpid());
  auto remove_db = [&] {
    for (const std::string& p : {path, bare}) {
      std::remove(p.c_str());
      std::remove((p + "-wal").c_str());
    }
  };
  remove_db();
  std::vector<std::int64_t> items(static_cast<std::size_t>(cfg.map1_items));
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = static_cast<std::int64_t>(i);
  std::vector<double> off, on, nosum;
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
    if (code == 0) {
      // Read by rank 0 when it opens the database; set on every rank alike.
      ::setenv("MPIPLY_BENCH_NO_CHECKSUM", "1", 1);
      code = one(bare, false, &nosum, nullptr);
      ::unsetenv("MPIPLY_BENCH_NO_CHECKSUM");
    }
  }
  if (code == 0) code = one(path, true, nullptr, &resumed);
  remove_db();
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0 || code != 0) return;
  double moff = median(off), mon = median(on), mnosum = median(nosum);
  fmt::print("task database: map chunksize 1, {} items: off {:.0f} items/s, on (recording) "
             "{:.0f} items/s = {:.2f} of off (db_map_ratio); on without checksums {:.0f} items/s, "
             "checksums on / off = {:.2f} (db_checksum_ratio); resumed from it (nothing sent) "
             "{:.0f} items/s\n",
             items.size(), moff, mon, mon / moff, mnosum, mon / mnosum, resumed);
  if (!cfg.json.empty()) {
    // Added to the file the full run's report wrote (or a new one with --db-only).
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    if (std::ifstream in(cfg.json); in) out = nlohmann::ordered_json::parse(in, nullptr, false);
    if (!out.is_object()) out = nlohmann::ordered_json::object();
    auto add = [&out](const char* key, double v) {
      out[key] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
    };
    add("db_map_off_items_per_s", moff);
    add("db_map_on_items_per_s", mon);
    add("db_map_on_nochecksum_items_per_s", mnosum);
    add("db_map_resumed_items_per_s", resumed);
    add("db_map_ratio", mon / moff);
    add("db_checksum_ratio", mon / mnosum);
    std::ofstream(cfg.json, std::ios::trunc) << out.dump(2) << '\n';
  }
}

}  // namespace bench
