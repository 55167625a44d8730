// Exit-code program for the task database's trust rules (docs/database.md, "Integrity"):
//   --foreign DIR   rank 0 makes DIR/foreign.db, an SQLite file of another application with no
//                   tables (user_version 42), and runs with it as the database: start-up must
//                   refuse it (81) and leave it byte-identical; prints "db-trust: foreign file
//                   byte-identical" when it is.
//   --dev-null      runs with /dev/null as the database: refused (81) and no side file appears
//                   next to it (prints "db-trust: no side file").
//   --full DIR      rank 0's files may not grow past 1 MiB (RLIMIT_FSIZE, as on a full disk):
//                   a map of 20,000 tasks with 1 KiB results cannot be recorded; client_main
//                   still gets every result (prints "db-trust: all 20000 results right") and
//                   every rank exits kExitNotRecorded (85).
//   --build-differs rank 1 pretends to run another build: start-up refuses the job (81) unless
//                   MPIPLY_MPMD=1, when it runs (0).
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <mpi.h>
#include <sqlite3.h>

#include <mpiply/mpiply.hpp>

#include "runtime/build_id.hpp"
#include "report_exit.hpp"

namespace {

std::vector<char> kilobyte(int i) { return std::vector<char>(1024, static_cast<char>(i % 127)); }
int twice(int x) { return 2 * x; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

MPIPLY_REGISTER(kilobyte);
MPIPLY_REGISTER(twice);

int main(int argc, char** argv) {
  mpiply::Environment env(argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::string mode = argc > 1 ? argv[1] : "", dir = argc > 2 ? argv[2] : "";
  mpiply::RunOptions o;
  std::string before, path;
  if (mode == "--foreign" && rank == 0) {
    path = dir + "/foreign-" + std::to_string(getpid()) + ".db";
    std::filesystem::remove(path);
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA user_version = 42", nullptr, nullptr, nullptr) != SQLITE_OK)
      return 70;
    sqlite3_close(db);
    before = slurp(path);
    std::printf("db-trust: foreign file of %zu bytes\n", before.size());
    o.db = path;
  } else if (mode == "--dev-null") {
    o.db = "/dev/null";
  } else if (mode == "--full" && rank == 0) {
    path = dir + "/full-" + std::to_string(getpid()) + ".db";
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    // A write past the limit fails with EFBIG instead of killing the process.
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{1 << 20, 1 << 20};
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0) return 71;
    o.db = path;
  } else if (mode == "--build-differs" && rank == 1) {
    mpiply::detail::override_build_id_for_tests("0123456789abcdef");
  }
  int rc = mpiply::run(argc, argv, o, [&](mpiply::Client& c) {
    if (mode != "--full") {
      auto r = c.load_balanced_view().map(twice, std::vector<int>{1, 2, 3});
      std::printf("db-trust: ran, %d\n", r[0] + r[1] + r[2]);
      return 0;
    }
    std::vector<int> xs(20000);
    for (int i = 0; i < 20000; ++i) xs[static_cast<std::size_t>(i)] = i;
    auto got = c.load_balanced_view().map(kilobyte, xs, {.chunksize = 1});
    int right = 0;
    for (int i = 0; i < 20000; ++i) right += got[static_cast<std::size_t>(i)] == kilobyte(i);
    std::printf("db-trust: all %d results right\n", right);
    return 0;
  });
  if (rank == 0) {
    if (mode == "--foreign")
      std::printf("db-trust: foreign file %s\n",
                  slurp(path) == before ? "byte-identical" : "CHANGED");
    if (mode == "--dev-null") {
      bool side = std::filesystem::exists("/dev/null-journal") ||
                  std::filesystem::exists("/dev/null-wal");
      std::printf("db-trust: %s\n", side ? "a side file appeared" : "no side file");
    }
    if (!path.empty() && mode == "--foreign") std::filesystem::remove(path);
    if (mode == "--full") {
      std::filesystem::remove(path);
      std::filesystem::remove(path + "-wal");
    }
  }
  std::fflush(stdout);
  return report_exit(rc);
}
