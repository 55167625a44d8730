// Resource requests end to end (docs/resources.md): each rank advertises what its own
// environment gives it (GPU ids, memory, named resources, cores), rank 0 sees every engine's
// inventory, tasks with {.gpus}, {.cores}, {.memory}, {.resources} go only where those are
// free and learn what they got (task_resources(); CUDA_VISIBLE_DEVICES in an isolated worker),
// two GPU tasks never hold one id at once, and a request no engine can hold is a UsageError
// before anything is sent. This machine has no GPU: the ids are made up per rank.
#include <cstdlib>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mpiply/mpiply.hpp>

#include "scheduling_support.hpp"
#include "support.hpp"

using mpiply_test::RestoreEnv;
using namespace mpiply::literals;

namespace {

// Engine id, the GPU id it was given (one), and x.
std::tuple<int, std::string, int> gpu_task(std::string gate, int x) {
  const auto& got = mpiply::task_resources();
  std::string id = got.gpus.size() == 1 ? got.gpus[0] : fmt::format("{} ids", got.gpus.size());
  return {mpiply::this_engine().id(), id, sched_test::gate_item(std::move(gate), x)};
}
unsigned cores_given() { return mpiply::task_resources().cores; }
std::string visible_devices() {
  const char* v = std::getenv("CUDA_VISIBLE_DEVICES");
  return fmt::format("{}|{}", v ? v : "(unset)", fmt::join(mpiply::task_resources().gpus, ","));
}
int engine_of_task(int) { return mpiply::this_engine().id(); }

// Each rank's made-up GPUs: "r<rank>a" and "r<rank>b".
std::string gpus_of(int rank) { return fmt::format("r{}a,r{}b", rank, rank); }

// The rank an engine id runs on: engine e is rank e+1, or rank 0 inline.
int rank_of(const mpiply::Client& c, int e) { return c.inline_mode() ? 0 : e + 1; }

}  // namespace

MPIPLY_REGISTER(gpu_task);
MPIPLY_REGISTER(cores_given);
MPIPLY_REGISTER(visible_devices);
MPIPLY_REGISTER(engine_of_task);

TEST_CASE("rank 0 sees what each engine's environment gives it", "[resources]") {
  int rank = mpiply_test::world_rank();
  RestoreEnv g("MPIPLY_GPUS"), m("MPIPLY_MEMORY"), n("MPIPLY_RESOURCES"), t("MPIPLY_ENGINE_THREADS");
  setenv("MPIPLY_GPUS", gpus_of(rank).c_str(), 1);
  setenv("MPIPLY_MEMORY", fmt::format("{}G", rank + 1).c_str(), 1);
  setenv("MPIPLY_RESOURCES", fmt::format("license={},scratch=1", rank % 2).c_str(), 1);
  setenv("MPIPLY_ENGINE_THREADS", "2", 1);
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    for (int e : c.ids()) {
      int r = rank_of(c, e);
      const mpiply::EngineResources& er = c.engine_resources(e);
      CHECK(er.cores == 2);
      CHECK(er.gpus == std::vector<std::string>{fmt::format("r{}a", r), fmt::format("r{}b", r)});
      CHECK(er.memory == std::uint64_t(r + 1) << 30);
      CHECK(er.named == std::map<std::string, std::uint64_t>{{"license", r % 2}, {"scratch", 1}});
    }
    CHECK_THROWS_AS(c.engine_resources(static_cast<int>(c.ids().size())), mpiply::UsageError);
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("two GPU tasks never hold one id at once", "[resources]") {
  int rank = mpiply_test::world_rank();
  RestoreEnv g("MPIPLY_GPUS");
  setenv("MPIPLY_GPUS", gpus_of(rank).c_str(), 1);
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    sched_test::TempFile gate("gpu-gate");
    if (c.inline_mode()) sched_test::touch(gate.path);  // inline tasks run at submission
    auto view = c.load_balanced_view();
    int engines = static_cast<int>(c.ids().size());
    // Every GPU of the job, held at once behind the gate (inline, each task ends before the next).
    int held = c.inline_mode() ? 0 : 2 * engines;
    std::vector<std::string> gates(static_cast<std::size_t>(3 * engines), gate.path);
    auto amr = view.map_async(gpu_task, gates, mpiply_test::iota_vec(3 * engines),
                              {.chunksize = 1, .flags = {.gpus = 1}});
    sched_test::touch(gate.path);
    auto out = amr.get(sched_test::kBound);
    std::set<std::pair<int, std::string>> first_wave;
    for (int i = 0; i < 3 * engines; ++i) {
      auto [e, id, x] = out[static_cast<std::size_t>(i)];
      CHECK(x == i);
      int r = rank_of(c, e);
      CHECK((id == fmt::format("r{}a", r) || id == fmt::format("r{}b", r)));
      if (i < held) CHECK(first_wave.insert({e, id}).second);
    }
    // The tasks held at once used every GPU of every engine.
    CHECK(static_cast<int>(first_wave.size()) == held);
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("a task learns its cores; an isolated task sees its GPU in CUDA_VISIBLE_DEVICES",
          "[resources]") {
  int rank = mpiply_test::world_rank();
  RestoreEnv g("MPIPLY_GPUS"), t("MPIPLY_ENGINE_THREADS"), cuda("CUDA_VISIBLE_DEVICES");
  setenv("MPIPLY_GPUS", gpus_of(rank).c_str(), 1);
  setenv("MPIPLY_ENGINE_THREADS", "3", 1);
  unsetenv("CUDA_VISIBLE_DEVICES");
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto view = c.load_balanced_view();
    CHECK(view.apply(cores_given) == 1u);  // asked for none: sized for one
    view.set_flags({.cores = 3});
    CHECK(view.apply(cores_given) == 3u);
    view.set_flags({.cores = 2});
    CHECK(view.apply(cores_given) == 2u);
    auto plain = c.load_balanced_view();
    plain.set_flags({.isolate = true, .gpus = 1});
    std::string seen = plain.apply(visible_devices);
    auto bar = seen.find('|');
    REQUIRE(bar != std::string::npos);
    CHECK(seen.substr(0, bar) == seen.substr(bar + 1));  // the variable names its GPU
    CHECK(seen.substr(0, bar).size() == 3);               // one id, "r<n>a" or "r<n>b"
    // Outside a task there is nothing to ask.
    CHECK_THROWS_AS(mpiply::task_resources(), mpiply::UsageError);
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("memory and named resources go where they are and one task holds them",
          "[resources]") {
  int rank = mpiply_test::world_rank();
  RestoreEnv n("MPIPLY_RESOURCES"), m("MPIPLY_MEMORY");
  // Only the last rank holds the license and the large memory.
  int last = mpiply_test::world_size() - 1;
  setenv("MPIPLY_RESOURCES", rank == last ? "license=1" : "scratch=4", 1);
  setenv("MPIPLY_MEMORY", rank == last ? "64G" : "1G", 1);
  int rc = mpiply_test::run_client([last](mpiply::Client& c) {
    int holder = c.inline_mode() ? 0 : last - 1;
    auto view = c.load_balanced_view();
    auto lic = view.map_async(engine_of_task, mpiply_test::iota_vec(20),
                              {.chunksize = 1, .flags = {.resources = {{"license", 1}}}});
    auto mem = view.map_async(engine_of_task, mpiply_test::iota_vec(20),
                              {.chunksize = 1, .flags = {.memory = 32_GiB}});
    for (int e : lic.get(sched_test::kBound)) CHECK(e == holder);
    for (int e : mem.get(sched_test::kBound)) CHECK(e == holder);
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("a request no engine can ever hold is a UsageError before anything is sent",
          "[resources]") {
  RestoreEnv g("MPIPLY_GPUS"), cuda("CUDA_VISIBLE_DEVICES"), n("MPIPLY_RESOURCES");
  unsetenv("MPIPLY_GPUS");
  unsetenv("CUDA_VISIBLE_DEVICES");
  unsetenv("MPIPLY_RESOURCES");
  int rc = mpiply_test::run_client([](mpiply::Client& c) {
    auto view = c.load_balanced_view();
    auto before = c.history().size();
    view.set_flags({.gpus = 1});
    CHECK_THROWS_WITH(view.apply(cores_given),
                      Catch::Contains("1 GPUs asked, the most an engine holds is 0") &&
                          Catch::Contains("docs/resources.md"));
    view = c.load_balanced_view();
    CHECK_THROWS_WITH(view.map(engine_of_task, mpiply_test::iota_vec(4),
                               {.flags = {.cores = 64}}),
                      Catch::Contains("64 cores asked"));
    CHECK_THROWS_WITH(view.map(engine_of_task, mpiply_test::iota_vec(4),
                               {.flags = {.resources = {{"license", 1}}}}),
                      Catch::Contains("of 'license' asked"));
    CHECK(c.history().size() == before);  // nothing was submitted
    // Engines name themselves in a DirectView: its tasks are not placed by resources.
    auto dv = c.direct_view();
    dv.set_flags({.cores = 1});
    CHECK_THROWS_WITH(dv.apply(cores_given), Catch::Contains("load_balanced_view"));
    return 0;
  });
  CHECK(rc == 0);
}
