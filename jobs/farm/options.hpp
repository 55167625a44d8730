#pragma once
// farm: command-line options (Boost.Program_options). Every rank parses them before MPI starts,
// so a bad flag stops every rank the same way; only the first rank prints.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "../common/before_mpi.hpp"

namespace farm {

// GNU parallel's code for errors other than failed commands (1..101 count failed commands).
inline constexpr int kExitUsage = 255;

struct Options {
  std::string input = "-";  // command file; "-" is stdin
  std::string joblog;
  bool resume = false;
  int retries = 0;
  double timeout = 0;   // seconds; 0 = none
  double grace = 1;     // seconds between SIGTERM and SIGKILL on a timeout
  std::string results;  // directory for <seq>.out / <seq>.err; empty = print on rank 0
};

// Fills `o`; returns an exit code when the program should stop now (--help, bad flags).
inline std::optional<int> parse_options(int argc, char** argv, Options& o) {
  namespace po = boost::program_options;
  po::options_description shown("options");
  shown.add_options()
    ("help,h", "print this text")
    ("joblog", po::value(&o.joblog)->value_name("FILE"),
     "write a line per command to FILE as it finishes, in GNU parallel's tab-separated layout "
     "(Seq Host Starttime JobRuntime Send Receive Exitval Signal Command)")
    ("resume", po::bool_switch(&o.resume),
     "skip commands that --joblog FILE shows finished with Exitval 0 and Signal 0 (same Seq and "
     "Command), and append to FILE")
    ("retries", po::value(&o.retries)->value_name("N")->default_value(0),
     "rerun a failing command up to N more times (GNU parallel's --retries counts all attempts); "
     "the joblog records the last attempt")
    ("timeout", po::value(&o.timeout)->value_name("S")->default_value(0),
     "kill a command's process group after S seconds (SIGTERM, then SIGKILL after --grace); "
     "it counts as failed, with the signal in the joblog. 0: no limit")
    ("grace", po::value(&o.grace)->value_name("S")->default_value(1.0),
     "seconds between SIGTERM and SIGKILL on a timeout")
    ("results", po::value(&o.results)->value_name("DIR"),
     "write each command's output to DIR/<seq>.out and DIR/<seq>.err instead of printing it");
  po::options_description hidden;
  hidden.add_options()("input", po::value(&o.input));
  po::options_description all;
  all.add(shown).add(hidden);
  po::positional_options_description positional;
  positional.add("input", 1);

  const bool talk = jobs::first_rank();
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      if (talk) {
        fmt::print(
            "usage: mpirun -n N farm [options] [FILE]\n\n"
            "Runs the shell commands in FILE (or stdin, or '-'), one per line, on the engines:\n"
            "each with /bin/sh -c in its own process group, as engines free up. Blank lines and\n"
            "lines starting with '#' are skipped. Each command's stdout and stderr are captured\n"
            "and printed on rank 0 in one piece when it finishes (or go to --results DIR).\n"
            "A progress line (done/total, failed) goes to stderr. Exit status: the number of\n"
            "failed commands, at most 101; 255 for a usage error. With one rank the commands\n"
            "run on rank 0.\n\n");
        std::cout << shown << "\n";
      }
      return 0;
    }
    if (o.resume && o.joblog.empty()) throw po::error("--resume needs --joblog FILE");
    if (o.retries < 0) throw po::error("--retries must be 0 or more");
    if (!(o.timeout >= 0) || !(o.grace >= 0)) throw po::error("--timeout and --grace must be >= 0");
  } catch (const po::error& e) {
    if (talk) fmt::print(stderr, "farm: {}; try --help\n", e.what());
    return jobs::exit_all_ranks(kExitUsage);
  }
  return std::nullopt;
}

}  // namespace farm
