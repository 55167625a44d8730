// Writes a small task database as a job that ran once and then crashed would leave it: run 1
// (100 tasks, 3 failed) closed properly, run 2 flushed 10 tasks and died without closing.
// tests/CMakeLists.txt runs dbinfo on it.
//
//   task_db_sample PATH
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "taskdb/task_db.hpp"

using namespace mpiply;
using namespace mpiply::detail;

namespace {

TaskRow row(std::uint64_t i, const std::string& args, bool fail, std::string& error) {
  TaskRow r;
  r.msg_id = i;
  r.function = "simulate";
  r.key = resume_key(r.function, {args.data(), args.size()});
  r.status = fail ? TaskStatus::error : TaskStatus::ok;
  r.submitted = 1'750'000'000'000'000'000 + std::int64_t(i) * 1'000'000;
  r.started = r.submitted + 10'000;
  r.completed = r.started + 2'000'000;
  r.received = r.completed + 30'000;
  r.engine = static_cast<std::int32_t>(i % 3);
  static const std::string hosts[3] = {"node-00", "node-01", "node-02"};
  r.hostname = hosts[i % 3];
  r.pid = 100 + r.engine;
  if (fail) {
    error = "ValueError: the input " + std::to_string(i) + " is out of range";
    r.error = error;
  } else {
    r.result = {args.data(), args.size()};  // stands in for an encoded result
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: task_db_sample PATH\n");
    return 2;
  }
  std::string path = argv[1];
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  ProgramIdentity program{"task_db_sample", "00000000000000000000000000000001", 1};
  try {
    std::string error;
    {
      auto db = TaskDb::open(path, program, {.ranks = 4});
      for (std::uint64_t i = 0; i < 100; ++i)
        db->append(row(i, "args " + std::to_string(i), i % 40 == 7, error));
      db->close();
    }
    auto db = TaskDb::open(path, program, {.ranks = 4});
    for (std::uint64_t i = 0; i < 10; ++i)
      db->append(row(i, "more args " + std::to_string(i), false, error));
    db->flush();
    std::printf("wrote %s\n", path.c_str());
    std::fflush(stdout);
    ::_exit(0);  // as a crash leaves it: no close
  } catch (const std::exception& e) {
    std::fprintf(stderr, "task_db_sample: %s\n", e.what());
    return 1;
  }
}
