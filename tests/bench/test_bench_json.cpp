// bench --json: the file is JSON a parser reads, whatever the figures; a figure that is not a
// finite number (here every ratio over a zero baseline) is null, never "inf" or "nan".
#define CATCH_CONFIG_MAIN
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bench/report.hpp"

TEST_CASE("bench JSON: finite figures as numbers, non-finite ones as null", "[bench]") {
  bench::Config cfg;
  cfg.quick = true;
  cfg.json = "test_bench_json_" + std::to_string(::getpid()) + ".json";
  bench::Baselines b;  // all zero: every ratio divides by zero
  bench::Figures f;
  f.apply_rtt_us = 3.5;
  f.map_chunk1_items_per_s = 1e6;
  f.task_cost_us_1e3 = 0;  // task_cost ratio: 0/0
  f.cost_large_items = 1000000;
  bench::DataFigures d;  // the data rows: baselines zero too
  d.pull_gbs = 1.5;
  bench::report(cfg, 2, 4, b, f, d);
  nlohmann::json j;
  {
    std::ifstream in(cfg.json);
    REQUIRE(in);
    REQUIRE_NOTHROW(in >> j);
  }
  std::remove(cfg.json.c_str());
  CHECK(j.at("apply_rtt_us") == 3.5);
  CHECK(j.at("map_chunk1_items_per_s") == 1e6);
  CHECK(j.at("pingpong_rtt_us") == 0.0);
  CHECK(j.at("ratio_apply_rtt_to_pingpong").is_null());    // 3.5 / 0 = inf
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
