// itermap: ipyparallel's "Map results are iterable!" example in C++. Results of a map can be used
// as they arrive: in submission order by default, in arrival order with ordered = false.
//
//   mpirun -n 4 ./build/jobs/itermap            (one client, three engines; a few seconds)
//   mpirun -n 4 ./build/jobs/itermap --quick    (the same in well under a second, for CI)
//   mpirun -n 4 ./build/jobs/itermap --timeline itermap.json   (open it in ui.perfetto.dev)
//
// At the end it watches one more map with wait_interactive (a redrawing line on a terminal, a
// line per interval in a log), prints where the time went (summary) and can write every task
// as a Chrome-trace timeline.
//
// The reference sleeps for `id` seconds and for 0.01*t seconds over 100 items (about a minute on
// three engines); here a time "unit" is --scale seconds (default 0.1) to keep a run short.
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <mpiply/mpiply.hpp>

namespace {

void sleep_seconds(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// The reference's dv.apply(time.sleep, Reference('id')), with the time unit passed along.
void sleep_id(int id, double scale) { sleep_seconds(id * scale); }

// Sleeps t seconds and returns (id, t), where id is the value scattered to this engine: like the
// reference, it reads the engine's namespace rather than asking for the engine id.
std::pair<int, double> sleep_here(double t) {
  sleep_seconds(t);
  return {mpiply::this_engine().get<int>("id"), t};
}

}  // namespace

MPIPLY_REGISTER(sleep_id);
MPIPLY_REGISTER(sleep_here);

namespace {

double since(std::chrono::steady_clock::time_point tic) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - tic).count();
}

// Iterates an AsyncMapResult as its results arrive, printing one line per item.
void print_tasks(const mpiply::AsyncMapResult<std::pair<int, double>>& amr,
                 std::chrono::steady_clock::time_point tic) {
  int i = 0;
  for (const auto& r : amr) fmt::print("task {} on engine {}: {:.3f}\n", i++, r.first, since(tic));
}

constexpr const char* kAbout =
    "usage: mpirun -n N itermap [--scale S] [--quick]\n\n"
    "Scatters 'id' to the engines, sleeps `id` units on each through Reference(\"id\"),\n"
    "then maps sleep_here over 100 items of 0.01*t units: one call per task, four calls\n"
    "per task, and two calls per task with unordered results, printing each result as it\n"
    "arrives. Then it watches one more map with wait_interactive, prints its summary (per\n"
    "engine busy time, slowest tasks) and, with --timeline FILE, writes every task of the run\n"
    "as a Chrome trace (open it in ui.perfetto.dev or chrome://tracing).\n\n";

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  double scale = 0.1;
  bool quick = false;
  std::string timeline;
  po::options_description opts("options");
  opts.add_options()
    ("help,h", "print this text")
    ("scale", po::value(&scale)->value_name("S"), "seconds per time unit (default 0.1)")
    ("quick", po::bool_switch(&quick), "20 items and --scale 0.01, for CI")
    ("timeline", po::value(&timeline)->value_name("FILE"),
     "write every task as a Chrome trace to FILE");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
    if (!(scale >= 0 && scale < 1e6)) throw po::error("--scale needs a number >= 0");
  } catch (const po::error& e) {
    fmt::print(stderr, "itermap: {}; try --help\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    fmt::print("{}", kAbout);
    std::cout << opts;
    return 0;
  }
  const int nitems = quick ? 20 : 100;
  if (quick && !vm.count("scale")) scale = 0.01;

  return mpiply::run(argc, argv, [&](mpiply::Client& rc) {
    auto dv = rc[mpiply::all];
    auto v = rc.load_balanced_view();

    // scatter 'id', so id = 0, 1, 2 on engines 0, 1, 2 (flatten: an int each, not a list)
    dv.scatter("id", rc.ids(), true);
    fmt::print("Engine IDs: [{}]\n", fmt::join(dv.pull<int>("id"), ", "));

    // A Reference to `id` is a different value on each engine.
    mpiply::Reference<int> ref("id");
    fmt::print("sleeping for `id` units ({} s each) on each engine\n", scale);
    auto tic = std::chrono::steady_clock::now();
    auto ar = dv.apply_async(sleep_id, ref, scale);
    int i = 0;
    for ([[maybe_unused]] const auto& r : ar) fmt::print("{}: {:.3f}\n", i++, since(tic));

    // The reference's [0.01 * t for t in range(100)], in seconds.
    std::vector<double> ts, reversed;
    for (int t = 0; t < nitems; ++t) ts.push_back(0.01 * t * scale);
    for (int t = nitems; t > 0; --t) reversed.push_back(0.01 * t * scale);

    fmt::print("running with one call per task\n");
    tic = std::chrono::steady_clock::now();
    print_tasks(v.map_async(sleep_here, ts), tic);

    fmt::print("running with four calls per task\n");
    // with chunksize, we can have four calls per task
    tic = std::chrono::steady_clock::now();
    print_tasks(v.map_async(sleep_here, ts, {.chunksize = 4}), tic);

    fmt::print("running with two calls per task, with unordered results\n");
    // We can even iterate through faster results first, with ordered = false
    tic = std::chrono::steady_clock::now();
    print_tasks(v.map_async(sleep_here, reversed, {.chunksize = 2, .ordered = false}), tic);

    // Watching a map: progress counts items (not the chunks that carry them); the done callback
    // runs on rank 0's progress thread or on the waiting thread, once the map has finished.
    fmt::print("watching a map of {} items with wait_interactive\n", 2 * nitems);
    std::vector<double> more;
    for (int t = 0; t < 2 * nitems; ++t) more.push_back(0.01 * (t % 10) * scale);
    auto watched = v.map_async(sleep_here, more, {.chunksize = 2});
    watched.add_done_callback([](const mpiply::AsyncMapResult<std::pair<int, double>>& r) {
      fmt::print(stderr, "done callback: {} items finished\n", r.size());
    });
    watched.wait_interactive(std::chrono::duration<double>(quick ? 0.05 : 0.5));
    fmt::print("where the time went:\n");
    watched.summary(3).print();
    if (!timeline.empty()) {
      rc.write_timeline(timeline);
      fmt::print("wrote the timeline of {} tasks to {}\n", rc.history().size(), timeline);
    }
    return 0;
  });
}
