#pragma once
// farm: command-line options (Boost.Program_options) and GNU parallel's argument layout:
//   farm [options] [TEMPLATE WORDS...] [::: ARGS... | :::: FILES...]...
// Options end at the first word that is not one; the words up to the first ':::' or '::::' are
// the command template. Every rank parses them before MPI starts, so a bad flag stops every rank
// the same way; only the first rank prints.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "../common/before_mpi.hpp"
#include "../common/program_name.hpp"
#include "halt.hpp"

namespace farm {

// GNU parallel's code for errors other than failed commands (1..101 count failed commands).
inline constexpr int kExitUsage = 255;

struct Options {
  std::vector<std::string> command;               // the template's words; empty: lines are commands
  std::vector<std::vector<std::string>> sources;  // ':::' argument lists, in order
  std::vector<std::string> source_files;          // parallel to sources: the '::::' file, or ""
  std::string joblog;
  bool resume = false, resume_failed = false;
  int retries = 1;      // tries in all, as GNU parallel counts them
  int jobs = 1;         // commands at once per engine
  bool keep_order = false, dry_run = false, bar = false;
  Halt halt;
  double timeout = 0;   // seconds; 0 = none
  double grace = 1;     // seconds between SIGTERM and SIGKILL on a timeout
  std::string results;  // --results DIR (docs in jobs/farm/results.hpp); empty = print on rank 0
};

namespace detail {

// Splits argv into option tokens and the words after them (template and input sources): options
// stop at the first word that is neither an option nor an option's value, or at '--'.
inline void split_args(int argc, char** argv, const boost::program_options::options_description& d,
                       std::vector<std::string>& opts, std::vector<std::string>& words) {
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    opts.push_back(a);
    if (a.find('=') != std::string::npos) continue;
    std::string name = a.rfind("--", 0) == 0 ? a.substr(2) : a.substr(0, 2);
    const auto* o = d.find_nothrow(name, false);
    bool short_joined = a.rfind("--", 0) != 0 && a.size() > 2;  // -j4
    if (o && o->semantic()->max_tokens() > 0 && !short_joined && i + 1 < argc)
      opts.push_back(argv[++i]);
  }
  for (; i < argc; ++i) words.emplace_back(argv[i]);
}

}  // namespace detail

// Fills `o`; returns an exit code when the program should stop now (--help, bad flags).
inline std::optional<int> parse_options(int argc, char** argv, Options& o) {
  namespace po = boost::program_options;
  std::vector<std::string> arg_files;
  std::string halt;
  po::options_description shown("options");
  shown.add_options()
    ("help,h", "print this text")
    ("jobs,j", po::value(&o.jobs)->value_name("N")->default_value(1),
     "run N commands at once on each engine (each engine gets N worker threads)")
    ("arg-file,a", po::value(&arg_files)->value_name("FILE")->composing(),
     "read input lines from FILE, as ':::: FILE' does")
    ("keep-order,k", po::bool_switch(&o.keep_order),
     "print outputs in input order, not in the order commands finish")
    ("joblog", po::value(&o.joblog)->value_name("FILE"),
     "write a line per command to FILE as it finishes, in GNU parallel's tab-separated layout "
     "(Seq Host Starttime JobRuntime Send Receive Exitval Signal Command)")
    ("resume", po::bool_switch(&o.resume),
     "skip every command whose Seq --joblog FILE already has (whatever its exit), and append "
     "to FILE")
    ("resume-failed", po::bool_switch(&o.resume_failed),
     "as --resume, but also run again the commands FILE shows failed")
    ("retries", po::value(&o.retries)->value_name("N")->default_value(1),
     "try a failing command up to N times in all (as GNU parallel: 1 and 0 mean once); "
     "the joblog records the last try")
    ("halt", po::value(&halt)->value_name("WHEN,fail=X"),
     "stop after failures: 'soon,fail=N' starts no new command once N have failed, 'now,fail=N' "
     "also kills the running ones; N may be a percentage ('soon,fail=10%'); 'never' (default)")
    ("timeout", po::value(&o.timeout)->value_name("S")->default_value(0),
     "kill a command's process group after S seconds (SIGTERM, then SIGKILL after --grace); "
     "it counts as failed, with Exitval -1 and the signal in the joblog. 0: no limit")
    ("grace", po::value(&o.grace)->value_name("S")->default_value(1.0),
     "seconds between SIGTERM and SIGKILL on a timeout")
    ("results", po::value(&o.results)->value_name("DIR"),
     "save each command's output in DIR as GNU parallel does (DIR/1/ARG/stdout, stderr, seq; "
     "with {#} in DIR: that directory per command) instead of printing it")
    ("bar", po::bool_switch(&o.bar),
     "draw the progress bar even when stderr is not a terminal")
    ("dry-run", po::bool_switch(&o.dry_run), "print the commands, run nothing");

  const bool talk = jobs::first_rank();
  try {
    std::vector<std::string> opt_tokens, words;
    detail::split_args(argc, argv, shown, opt_tokens, words);
    po::variables_map vm;
    po::store(po::command_line_parser(opt_tokens).options(shown).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      if (talk) {
        fmt::print("usage: mpirun -n N {} [options] [COMMAND [ARGS]] [::: VALUES... | :::: FILE...]\n\n",
                   jobs::tool_name());
        std::fputs(
            "Runs shell commands on the engines, as GNU parallel does on cores: each with\n"
            "/bin/sh -c in its own process group, as engines free up. Without COMMAND each input\n"
            "line is a command (blank lines and lines starting with '#' are skipped); with it,\n"
            "each input fills COMMAND's replacement strings: {} the input, {.} without extension,\n"
            "{/} basename, {//} directory, {/.} basename without extension, {#} the sequence\n"
            "number, {%} the job slot, {N} (and {N.} ...) the Nth input source. COMMAND without\n"
            "one gets ' {}' appended. Inputs: ':::' values, ':::: FILE' lines, -a FILE, else\n"
            "stdin; several sources combine as all their combinations. A lone FILE (one word, an\n"
            "existing file, no ':::') runs FILE's lines as commands.\n"
            "Outputs are captured and printed on rank 0 in one piece per command. Progress:\n"
            "a bar on a terminal, a line every 10 s in a log. Exit status: the number of\n"
            "failed commands, at most 101; with --halt ...,fail=1 the failed command's exit\n"
            "value; 255 for a usage error. With one rank the commands run on rank 0, one at\n"
            "a time. More in docs/farm.md.\n\n",
            stdout);
        std::cout << shown << "\n";
      }
      return 0;
    }
    // Words: the template, then ':::' / '::::' groups.
    std::size_t w = 0;
    for (; w < words.size() && words[w] != ":::" && words[w] != "::::"; ++w)
      o.command.push_back(words[w]);
    std::string mode;
    for (; w < words.size(); ++w) {
      if (words[w] == ":::" || words[w] == "::::") {
        mode = words[w];
        if (mode == ":::") {
          o.sources.emplace_back();
          o.source_files.emplace_back();
        }
        continue;
      }
      if (mode == ":::") {
        o.sources.back().push_back(words[w]);
      } else {
        o.sources.emplace_back();
        o.source_files.push_back(words[w]);
      }
    }
    for (const auto& f : arg_files) {
      o.sources.emplace_back();
      o.source_files.push_back(f);
    }
    if (mode == "::::" && o.source_files.back().empty())
      throw po::error("'::::' needs at least one file after it");
    if (o.resume && o.resume_failed) throw po::error("give --resume or --resume-failed, not both");
    if ((o.resume || o.resume_failed) && o.joblog.empty())
      throw po::error(fmt::format("--{} needs --joblog FILE", o.resume ? "resume" : "resume-failed"));
    if (o.retries < 0) throw po::error("--retries must be 0 or more");
    if (o.retries == 0) o.retries = 1;
    if (o.jobs < 1 || o.jobs > 1024) throw po::error("-j must be 1 to 1024");
    if (!(o.timeout >= 0) || !(o.grace >= 0)) throw po::error("--timeout and --grace must be >= 0");
    if (!halt.empty()) {
      std::string why;
      if (!parse_halt(halt, o.halt, why)) throw po::error(fmt::format("--halt '{}': {}", halt, why));
    }
  } catch (const po::error& e) {
    if (talk) fmt::print(stderr, "{}: {}; try --help\n", jobs::tool_name(), e.what());
    return jobs::exit_all_ranks(kExitUsage);
  }
  return std::nullopt;
}

}  // namespace farm
