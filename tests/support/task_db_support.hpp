#pragma once
// Shared by the task database tests (test_task_db.cpp, test_task_db_refusals.cpp): a temporary
// directory, files read and written whole, and stored tasks made and compared.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "taskdb/task_db.hpp"

namespace taskdb_support {

using namespace mpiply;
using namespace mpiply::detail;
namespace fs = std::filesystem;

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path dir;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mpiply-taskdb-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const char* name) const { return (dir / name).string(); }
};

inline const ProgramIdentity kProgram{"prog", "0123456789abcdef0123456789abcdef", 3};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A result message body as rank 0 receives it: per item u8 status, u32 length, value bytes.
inline std::string result_of(std::uint64_t v, std::size_t pad = 0) {
  std::string value(8 + pad, '\0');
  std::memcpy(value.data(), &v, 8);
  for (std::size_t i = 8; i < value.size(); ++i) value[i] = static_cast<char>(i * 7 + v);
  std::string out(1, '\0');
  auto len = static_cast<std::uint32_t>(value.size());
  out.append(reinterpret_cast<const char*>(&len), 4);
  return out + value;
}

inline std::string args_of(std::uint64_t i) {  // stands in for a task message after its header
  std::string a(12, '\0');
  std::memcpy(a.data() + 4, &i, 8);
  return a;
}

inline StoredTask make_task(std::uint64_t i, TaskStatus status = TaskStatus::ok, std::size_t pad = 0) {
  StoredTask t;
  t.msg_id = i;
  t.function = i % 3 == 0 ? "square" : "cube";
  std::string a = args_of(i);
  t.key = resume_key(t.function, {a.data(), a.size()});
  t.status = status;
  t.submitted = 1'700'000'000'000'000'000 + std::int64_t(i) * 1000;
  t.started = t.submitted + 500;
  t.completed = t.started + 20'000;
  t.received = t.completed + 700;
  t.engine = static_cast<std::int32_t>(i % 4);
  t.thread = static_cast<std::uint32_t>(i % 2);
  t.hostname = i % 2 ? "node-a" : "node-b";
  t.pid = 4000 + std::int64_t(i % 4);
  t.items = 1;
  if (status == TaskStatus::ok) t.result = result_of(i * i, pad);
  else t.error = "ValueError: bad input " + std::to_string(i);
  return t;
}

inline void check_same(const StoredTask& a, const StoredTask& b) {
  CHECK(a.msg_id == b.msg_id);
  CHECK(a.function == b.function);
  CHECK(a.key == b.key);
  CHECK(a.status == b.status);
  CHECK(a.reused == b.reused);
  CHECK(a.submitted == b.submitted);
  CHECK(a.started == b.started);
  CHECK(a.completed == b.completed);
  CHECK(a.received == b.received);
  CHECK(a.engine == b.engine);
  CHECK(a.thread == b.thread);
  CHECK(a.hostname == b.hostname);
  CHECK(a.pid == b.pid);
  CHECK(a.items == b.items);
  CHECK(a.error == b.error);
  CHECK(a.result == b.result);
}

// Runs fn in a child process; returns its exit status (fn's return value, or 99 on a throw).
template <class F>
inline int in_child(F fn) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int rc = 99;
    try {
      rc = fn();
    } catch (...) {
    }
    ::_exit(rc);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace taskdb_support
