// Micro-benchmark of the task database (not a test: it prints figures and judges nothing).
// Appends N records shaped like a chunksize-1 map's (one 8-byte item each, 4 engines), as rank 0
// would at result arrival, then reopens the file and looks every task up as a resumed run would,
// then runs db_query's scan over the file (rows streamed; peak memory measured around it).
//
//   build/tests/unit/task_db_bench [tasks] [path]       (defaults: 1000000, a file under /tmp)
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "taskdb/resume_index.hpp"
#include "taskdb/task_db.hpp"
#include "taskdb/task_db_query.hpp"

using namespace mpiply;
using namespace mpiply::detail;

namespace {

double seconds_of(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}
double wall() { return seconds_of(CLOCK_MONOTONIC); }

// Peak resident set (VmHWM, kB), and resetting it (Linux: "5" into clear_refs).
long peak_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

struct Task {
  char args[16];  // u32 item length, u8 tag, 8-byte value (as a chunksize-1 map of int64 sends)
  char result[13];
};

void fill(Task& t, std::uint64_t i) {
  std::memset(&t, 0, sizeof t);
  std::uint32_t len = 9;
  std::memcpy(t.args, &len, 4);
  std::memcpy(t.args + 5, &i, 8);
  std::uint32_t rlen = 8;
  std::memcpy(t.result + 1, &rlen, 4);
  std::memcpy(t.result + 5, &i, 8);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t n = argc > 1 ? std::stoull(argv[1]) : 1'000'000;
  std::string path = argc > 2 ? argv[2]
                              : (std::filesystem::temp_directory_path() /
                                 ("mpiply-taskdb-bench-" + std::to_string(::getpid()) + ".db"))
                                    .string();
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  ProgramIdentity program{"task_db_bench", "00000000000000000000000000000000", 1};
  const std::string host = "node-0001";
  Task t;

  // 1. The resume key alone (computed per task at submission when resume is on).
  double k0 = wall();
  std::uint64_t sink = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    fill(t, i);
    sink += resume_key("noop_item", {t.args, sizeof t.args}).lo;
  }
  double key_ns = (wall() - k0) / double(n) * 1e9;
  KeyHasher seed("noop_item");  // as rank 0 would keep one per function
  std::vector<ResumeKey> keys(n);
  k0 = wall();
  for (std::uint64_t i = 0; i < n; ++i) {
    fill(t, i);
    keys[i] = resume_key(seed, {t.args, sizeof t.args});
  }
  double seeded_ns = (wall() - k0) / double(n) * 1e9;
  std::string mib(std::size_t(1) << 20, 'x');
  k0 = wall();
  for (int i = 0; i < 50; ++i) sink += resume_key(seed, {mib.data(), mib.size()}).hi;
  double mib_ms = (wall() - k0) / 50 * 1e3;

  // 2. Appends, as results arrive; then close (flush + checkpoint).
  double cpu0 = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
  double w0 = wall();
  double caller_cpu = 0, append_wall = 0;
  {
    auto db = TaskDb::open(path, program);
    double c0 = seconds_of(CLOCK_THREAD_CPUTIME_ID);
    double a0 = wall();
    std::int64_t now = 1'700'000'000'000'000'000;
    for (std::uint64_t i = 0; i < n; ++i) {
      fill(t, i);
      TaskRow r;
      r.msg_id = i;
      r.function = "noop_item";
      r.key = keys[i];
      r.status = TaskStatus::ok;
      r.submitted = now + std::int64_t(i) * 250;
      r.started = r.submitted + 3000;
      r.completed = r.started + 400;
      r.received = r.completed + 2000;
      r.engine = static_cast<std::int32_t>(i % 4);
      r.hostname = host;
      r.pid = 1000 + r.engine;
      r.items = 1;
      r.result = {t.result, sizeof t.result};
      db->append(r);
    }
    append_wall = wall() - a0;
    caller_cpu = seconds_of(CLOCK_THREAD_CPUTIME_ID) - c0;
    db->close();
  }
  double total_wall = wall() - w0;
  double total_cpu = seconds_of(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  auto bytes = std::filesystem::file_size(path);

  // 3. A resumed run: open (integrity check + index of earlier successes), then look up all.
  double o0 = wall();
  auto db = TaskDb::open(path, program);
  double open_s = wall() - o0;
  double l0 = wall();
  std::uint64_t hits = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    fill(t, i);
    auto got = db->resume().lookup("noop_item", resume_key("noop_item", {t.args, sizeof t.args}));
    hits += got && got->result.size() == sizeof t.result;
  }
  double lookup_ns = (wall() - l0) / double(n) * 1e9;
  db->close();
  db.reset();
  keys = {};

  // 4. db_query over the file: every record, one that SQL rules out, one it cannot.
  struct QueryFigure {
    const char* what;
    Query q;
    double ms = 0;
    std::uint64_t rows = 0, matched = 0;
    long peak_growth_kb = 0;
  };
  std::vector<QueryFigure> qs;
  qs.push_back({"every record (no condition)", Query()});
  qs.push_back({"status == error (none)", field("status") == "error"});
  qs.push_back({"msg_id == n/2", field("msg_id") == static_cast<long long>(n / 2)});
  qs.push_back({"engine_id == 2 (C++ only)", field("engine_id") == 2});
  {
    auto rd = TaskDbReader::open(path);
    for (QueryFigure& f : qs) {
      long base = rss_kb();
      reset_peak();
      double q0 = wall();
      rd->query(f.q, [&](const TaskMetadata& m) { f.matched += m.msg_id != ~MsgId(0); }, &f.rows);
      f.ms = (wall() - q0) * 1e3;
      f.peak_growth_kb = peak_kb() - base;
    }
  }

  std::printf("tasks                      %llu\n", static_cast<unsigned long long>(n));
  std::printf("resume_key (name + args)   %.1f ns/task\n", key_ns);
  std::printf("resume_key (seeded)        %.1f ns/task; %.2f ms per MiB of arguments\n",
              seeded_ns, mib_ms);
  std::printf("append, caller's thread    %.1f ns/task wall, %.1f ns/task CPU\n",
              append_wall / double(n) * 1e9, caller_cpu / double(n) * 1e9);
  std::printf("append..close, all threads %.2f M tasks/s wall, %.1f ns/task CPU\n",
              double(n) / total_wall * 1e-6, total_cpu / double(n) * 1e9);
  std::printf("file size                  %.1f bytes/task\n", double(bytes) / double(n));
  std::printf("reopen (check + index)     %.3f s\n", open_s);
  std::printf("lookup (hash + find + copy) %.1f ns/task, %llu hits\n", lookup_ns,
              static_cast<unsigned long long>(hits));
  for (const QueryFigure& f : qs)
    std::printf("query %-28s %8.1f ms, %llu rows read, %llu matched, peak RSS +%ld kB\n", f.what,
                f.ms, static_cast<unsigned long long>(f.rows),
                static_cast<unsigned long long>(f.matched), f.peak_growth_kb);
  std::printf("(sink %llu)\n", static_cast<unsigned long long>(sink & 1));
  std::filesystem::remove(path);
  return hits == n ? 0 : 1;
}
