#pragma once
// farm: the command list and the joblog. The joblog has GNU parallel's tab-separated columns, so
// tools written for `parallel --joblog` read ours; --resume reads it back to skip what succeeded.
#include <cstdio>
#include <fstream>
#include <istream>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

namespace farm {

struct Command {
  long seq;          // 1-based position among the commands (blank lines and comments not counted)
  std::string text;  // the line as given, run with /bin/sh -c
};

// One command per line; lines that are blank or whose first non-blank character is '#' are
// skipped. A trailing '\r' (a file written on Windows) is dropped.
inline std::vector<Command> read_commands(std::istream& in) {
  std::vector<Command> cmds;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    cmds.push_back({static_cast<long>(cmds.size()) + 1, line});
  }
  return cmds;
}

inline constexpr const char* kJoblogHeader =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

// One joblog row, laid out as GNU parallel writes it (Send and Receive are bytes transferred to
// and from remote hosts there; nothing is transferred here).
inline std::string joblog_row(long seq, const std::string& host, double start_epoch,
                              double runtime, int exitval, int signal, const std::string& cmd) {
  return fmt::format("{}\t{}\t{:.3f}\t{:10.3f}\t0\t0\t{}\t{}\t{}\n", seq, host, start_epoch,
                     runtime, exitval, signal, cmd);
}

// (seq, command) of every row that finished with Exitval 0 and Signal 0. Rows that do not parse
// (e.g. a line cut short when a job was killed) are reported and ignored: their commands rerun.
inline std::set<std::pair<long, std::string>> succeeded_in_joblog(const std::string& path) {
  std::set<std::pair<long, std::string>> done;
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
      if (std::stoi(f[6]) == 0 && std::stoi(f[7]) == 0)
        done.emplace(std::stol(f[0]), line.substr(at));
    } catch (const std::exception&) {
      fmt::print(stderr, "farm: {}:{}: not a joblog row, ignored (its command will run again)\n",
                 path, lineno);
    }
  }
  return done;
}

}  // namespace farm
