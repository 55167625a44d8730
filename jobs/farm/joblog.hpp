#pragma once
// farm: the joblog. It has GNU parallel's tab-separated columns, so tools written for
// `parallel --joblog` read ours; --resume and --resume-failed read it back to skip jobs.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <fstream>
#include <istream>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "../common/program_name.hpp"

namespace farm {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

inline constexpr const char* kJoblogHeader =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

// One joblog row, laid out as GNU parallel writes it. Send and Receive are bytes moved to and
// from the host that ran the command: there, files of --transferfile and --return; here, the
// command line sent to the engine and the output it sent back.
struct JoblogRow {
  long seq;
  std::string host;
  double start_epoch, runtime;
  std::size_t send, receive;
  int exitval, signal;
  std::string command;
};

inline std::string joblog_row(const JoblogRow& r) {
  return fmt::format("{}\t{}\t{:.3f}\t{:10.3f}\t{}\t{}\t{}\t{}\t{}\n", r.seq, r.host,
                     r.start_epoch, r.runtime, r.send, r.receive, r.exitval, r.signal, r.command);
}

// The Seq of every row (of every row with Exitval 0 and Signal 0 when only_succeeded): the jobs
// --resume (--resume-failed) skips. As in GNU parallel only Seq counts, so the inputs must be
// the same as in the run that wrote the joblog. Rows that do not parse (e.g. a line cut short
// when a job was killed) are reported and ignored: their jobs run again.
inline std::set<long> seqs_in_joblog(const std::string& path, bool only_succeeded) {
  std::set<long> done;
  std::ifstream in(path);
  if (!in) return done;  // no joblog yet: nothing to skip
  std::string line;
  for (long lineno = 1; std::getline(in, line); ++lineno) {
    if (lineno == 1 && line.rfind("Seq\t", 0) == 0) continue;
    std::vector<std::string> f;
    std::size_t at = 0;
    while (f.size() < 8) {
      auto tab = line.find('\t', at);
      if (tab == std::string::npos) break;
      f.push_back(line.substr(at, tab - at));
      at = tab + 1;
    }
    try {
      if (f.size() != 8) throw std::invalid_argument("too few columns");
      if (std::stol(f[0]) < 1) throw std::invalid_argument("bad Seq");
      bool ok = std::stoi(f[6]) == 0 && std::stoi(f[7]) == 0;
      if (ok || !only_succeeded) done.insert(std::stol(f[0]));
    } catch (const std::exception&) {
      fmt::print(stderr, "{}: {}:{}: not a joblog row, ignored (its command will run again)\n",
                 jobs::tool_name(), path, lineno);
    }
  }
  return done;
}

// Opens the joblog: a new one with its header, or (when resuming) the old one to append to,
// first ending a row a killed run left cut short. Null if it cannot be written.
inline std::unique_ptr<std::FILE, FileCloser> open_joblog(const std::string& path, bool resume) {
  bool fresh = !resume || !std::filesystem::exists(path) || std::filesystem::file_size(path) == 0;
  bool cut = false;
  if (!fresh) {
    std::ifstream f(path, std::ios::binary);
    f.seekg(-1, std::ios::end);
    char c = '\n';
    f.get(c);
    cut = c != '\n';
  }
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), resume ? "a" : "w"));
  if (!f) return f;
  if (fresh) std::fputs(kJoblogHeader, f.get());
  else if (cut) std::fputc('\n', f.get());
  std::fflush(f.get());
  return f;
}

}  // namespace farm
