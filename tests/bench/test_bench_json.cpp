// bench --json: the file is JSON a parser reads, whatever the figures; a figure that is not a
// finite number (here every ratio over a zero baseline) is null, never "inf" or "nan".
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bench/report.hpp"

namespace {
nlohmann::json read_and_remove(const std::string& path) {
  nlohmann::json j;
  {
    std::ifstream in(path);
    REQUIRE(in);
    REQUIRE_NOTHROW(in >> j);
  }
  std::remove(path.c_str());
  return j;
}
}  // namespace

TEST_CASE("bench JSON: finite figures as numbers, non-finite ones as null", "[bench]") {
  bench::Config cfg;
  cfg.quick = true;
  cfg.json = "test_bench_json_" + std::to_string(::getpid()) + ".json";
  bench::Baselines b;  // all zero: every ratio divides by zero
  bench::Figures f;
  f.apply = {4.0, 3.5, 9.0};
  f.map_chunk1_items_per_s = 1e6;
  f.task_cost_us_1e3 = 0;  // task_cost ratio: 0/0
  f.cost_large_items = 1000000;
  bench::DataFigures d;  // the data rows: baselines zero too
  d.pull_gbs = 1.5;
  bench::report(cfg, 2, 4, b, f, d);
  nlohmann::json j = read_and_remove(cfg.json);
  CHECK(j.at("apply_rtt_mean_us") == 4.0);
  CHECK(j.at("apply_rtt_median_us") == 3.5);
  CHECK(j.at("apply_rtt_p99_us") == 9.0);
  CHECK(j.at("apply_rtt_us") == 3.5);  // the key earlier versions wrote: the median
  CHECK(j.at("map_chunk1_items_per_s") == 1e6);
  CHECK(j.at("pingpong_rtt_us") == 0.0);
  CHECK(j.at("ratio_apply_rtt_mean_to_pingpong_mean").is_null());  // 4 / 0 = inf
  CHECK(j.at("ratio_map_chunk1_to_farm").is_null());       // 1e6 / 0 = inf
  CHECK(j.at("ratio_task_cost_1e6_to_1e3").is_null());     // 0 / 0 = nan
  CHECK(j.at("pull_gbs") == 1.5);
  CHECK(j.at("ratio_pull_gbs_to_baseline").is_null());     // 1.5 / 0 = inf
  CHECK(j.at("boostmpi_send_gbs") == 0.0);
  // Every figure is a number or null (rows are added as the bench grows; none may be text).
  for (const auto& [key, value] : j.items()) {
    INFO(key);
    CHECK((value.is_number() || value.is_null()));
  }
}

// Every ratio the bench writes divides a figure by the same statistic of its baseline: set each
// baseline statistic to a different value and check which one each ratio used.
TEST_CASE("bench JSON: each ratio divides by the same statistic and memory", "[bench]") {
  bench::Config cfg;
  cfg.quick = true;
  cfg.json = "test_bench_ratios_" + std::to_string(::getpid()) + ".json";
  bench::Baselines b;
  b.pingpong = {2.0, 1.0, 5.0};  // mean, median, p99
  b.mpi_bw_gbs = 4.0;            // 4 KiB pages
  b.mpi_bw_huge_gbs = 8.0;       // huge pages, as push receives
  b.farm_tasks_per_s = 1e6;
  bench::Figures f;
  f.apply = {6.0, 2.0, 40.0};
  f.iso_apply = {12.0, 8.0, 80.0};
  f.push_bw_gbs = 6.0;
  f.task_cost_us_1e3 = 1.0;
  f.task_cost_us_1e6 = 1.5;
  f.dep_chain_tasks_per_s = 1e5;
  bench::DataFigures d;
  d.mpi_gather_irecv_gbs = 10.0;  // warm huge pages: gather_into's baseline
  d.mpi_gather_fresh_gbs = 2.0;   // fresh memory: gather's baseline
  d.gather_gbs = 1.0;
  d.gather_into_gbs = 5.0;
  bench::report(cfg, 2, 4, b, f, d);
  nlohmann::json j = read_and_remove(cfg.json);
  CHECK(j.at("ratio_apply_rtt_mean_to_pingpong_mean") == Approx(3.0));
  CHECK(j.at("ratio_apply_rtt_median_to_pingpong_median") == Approx(2.0));
  CHECK(j.at("ratio_apply_rtt_p99_to_pingpong_p99") == Approx(8.0));
  CHECK(j.at("pingpong_rtt_mean_us") == 2.0);
  CHECK(j.at("pingpong_rtt_median_us") == 1.0);
  CHECK(j.at("pingpong_rtt_p99_us") == 5.0);
  CHECK(j.at("pingpong_round_rtt_us") == 1.0);  // the key earlier versions wrote: the median
  CHECK(j.at("ratio_push_bw_to_mpi_bw_huge") == Approx(0.75));
  CHECK(j.at("ratio_iso_apply_rtt_mean_us_to_baseline") == Approx(2.0));
  CHECK(j.at("ratio_iso_apply_rtt_us_to_baseline") == Approx(4.0));
  CHECK(j.at("ratio_dep_chain_tasks_per_s_to_baseline") == Approx(1e5 / (1e6 / 6.0)));
  CHECK(j.at("ratio_gather_gbs_to_baseline") == Approx(0.5));
  CHECK(j.at("ratio_gather_into_gbs_to_baseline") == Approx(0.5));
  CHECK(j.at("ratio_task_cost_1e6_to_1e3") == Approx(1.5));
  // The ratios that mixed statistics or memory are gone, not left to be misread.
  CHECK_FALSE(j.contains("ratio_apply_rtt_to_pingpong"));
  CHECK_FALSE(j.contains("ratio_push_bw_to_mpi_bw"));
}

TEST_CASE("bench percentile: nearest rank", "[bench]") {
  std::vector<double> v;
  for (int i = 1; i <= 1000; ++i) v.push_back(double(1001 - i));  // 1000 .. 1, unsorted
  CHECK(bench::percentile(v, 99) == 990.0);
  CHECK(bench::percentile(v, 50) == 500.0);
  CHECK(bench::percentile(v, 100) == 1000.0);
  CHECK(bench::percentile({7.0}, 99) == 7.0);
  CHECK(bench::percentile({}, 99) == 0.0);
}

// The timed loop's figures: the tail (nearest rank) and the stall share, the part of the loop's
// time in round trips over 10 x its median.
TEST_CASE("bench round trips: tail figures and the stall share", "[bench]") {
  std::vector<double> rtts(1000, 1.0);
  rtts[10] = 5.0;     // slow, but under 10 x the median: not a stall
  rtts[500] = 100.0;  // a stall
  rtts[900] = 20.0;   // a stall
  bench::RoundTrip r = bench::timed_round_trips(rtts);
  CHECK(r.median == 1.0);
  CHECK(r.p99 == 1.0);
  CHECK(r.p999 == 20.0);  // the 999th smallest of 1,000
  CHECK(r.max == 100.0);
  double total = 997 * 1.0 + 5.0 + 100.0 + 20.0;
  CHECK(r.stall_share == Approx(120.0 / total));
  CHECK(r.mean == 0.0);  // the mean is the untimed loop's, set by the caller

  // Nearest rank exactly, where p / 100 * n is a whole number in floating point only nearly.
  std::vector<double> ranks(50000);
  for (std::size_t i = 0; i < ranks.size(); ++i) ranks[i] = double(i + 1);
  CHECK(bench::percentile(ranks, 99) == 49500.0);
  CHECK(bench::percentile(ranks, 99.9) == 49950.0);
  std::vector<double> thousand(ranks.begin(), ranks.begin() + 1000);
  CHECK(bench::percentile(thousand, 99.9) == 999.0);

  bench::RoundTrip none = bench::timed_round_trips({});
  CHECK(none.max == 0.0);
  CHECK(none.stall_share == 0.0);
}
