#pragma once
// farm: the jobs to run, from the input sources and the command template, as GNU parallel makes
// them. Each job has its Seq (1-based, input order) and its input values, one per source; the
// command line is made when the job starts, because {%} (the job slot) is known only then.
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstddef>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "options.hpp"

namespace farm {

struct Job {
  long seq;                         // 1-based position in input order
  std::vector<std::string> values;  // one per input source
};

// Quotes `s` for /bin/sh as GNU parallel does: as is when it holds only [-_.+a-zA-Z0-9/], else
// in single quotes.
inline std::string shell_quote(const std::string& s) {
  if (s.empty()) return "''";
  bool plain = true;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '+' || c == '/')) plain = false;
  if (plain) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\"'\"'") : std::string(1, c);
  q += "'";
  if (q.rfind("''", 0) == 0) q.erase(0, 2);
  if (q.size() >= 2 && q.compare(q.size() - 2, 2, "''") == 0) q.erase(q.size() - 2);
  return q;
}

namespace detail {

inline std::string basename_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}
inline std::string dirname_of(const std::string& p) {
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}
// Without the extension: the last '.' after the last '/', as GNU's {.}.
inline std::string no_ext(const std::string& p) {
  auto dot = p.rfind('.');
  auto slash = p.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return p;
  return p.substr(0, dot);
}

// A replacement string at text[i] ('{'): its length, and its value through `out`; 0 if none.
inline std::size_t replacement(const std::string& t, std::size_t i, const Job& job, int slot,
                               bool quote, std::string& out) {
  auto close = t.find('}', i);
  if (close == std::string::npos) return 0;
  std::string in = t.substr(i + 1, close - i - 1);
  std::size_t len = close - i + 1;
  if (in == "#") {
    out = std::to_string(job.seq);
    return len;
  }
  if (in == "%") {
    out = std::to_string(slot);
    return len;
  }
  std::size_t digits = 0;
  while (digits < in.size() && std::isdigit(static_cast<unsigned char>(in[digits]))) ++digits;
  std::string op = in.substr(digits);
  if (op != "" && op != "." && op != "/" && op != "//" && op != "/.") return 0;
  std::vector<std::string> values;
  if (digits > 0) {
    std::size_t n = std::stoul(in.substr(0, digits));
    if (n < 1 || n > job.values.size()) return 0;  // not ours: left as written, as GNU does
    values.push_back(job.values[n - 1]);
  } else {
    values = job.values;
  }
  out.clear();
  for (const auto& v : values) {
    std::string x = op == "." ? no_ext(v) : op == "/" ? basename_of(v)
                  : op == "//" ? dirname_of(v) : op == "/." ? no_ext(basename_of(v)) : v;
    out += (out.empty() ? "" : " ") + (quote ? shell_quote(x) : x);
  }
  return len;
}

}  // namespace detail

// `text` with its replacement strings filled in for `job` in slot `slot` (values shell-quoted
// when `quote`); `replaced` tells whether it had any.
inline std::string fill(const std::string& text, const Job& job, int slot, bool quote,
                        bool* replaced = nullptr) {
  std::string out, value;
  if (replaced) *replaced = false;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = text[i] == '{' ? detail::replacement(text, i, job, slot, quote, value) : 0;
    if (n == 0) {
      out += text[i++];
      continue;
    }
    out += value;
    if (replaced) *replaced = true;
    i += n;
  }
  return out;
}

// The command line of `job` in slot `slot`: each input line as it is when there is no template;
// else the template with its replacement strings filled in (the values shell-quoted), or with
// the values appended when it has none.
inline std::string command_line(const std::vector<std::string>& tmpl, const Job& job, int slot) {
  if (tmpl.empty()) {
    std::string line;
    for (const auto& v : job.values) line += (line.empty() ? "" : " ") + v;
    return line;
  }
  std::string t;
  for (const auto& w : tmpl) t += (t.empty() ? "" : " ") + w;
  bool replaced = false;
  std::string out = fill(t, job, slot, true, &replaced);
  if (!replaced) out += " " + fill("{}", job, slot, true);
  return out;
}

namespace detail {

inline std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a file written on Windows
    lines.push_back(line);
  }
  return lines;
}

inline bool is_command_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) != 0;
}

}  // namespace detail

// All jobs in input order. Lines that are commands skip blanks and '#' comments (their Seq
// counts only the commands); values from sources are taken as they are. Throws
// std::runtime_error naming a file that cannot be read.
inline std::vector<Job> make_jobs(Options& o) {
  // 'farm FILE': FILE's lines are the commands (farm's short form of 'farm :::: FILE'); 'farm -'
  // reads them from stdin.
  if (o.command.size() == 1 && o.sources.empty() &&
      (o.command[0] == "-" || detail::is_command_file(o.command[0]))) {
    o.sources.emplace_back();
    o.source_files.push_back(o.command[0]);
    o.command.clear();
  }
  std::vector<std::vector<std::string>> sources = o.sources;
  for (std::size_t s = 0; s < sources.size(); ++s) {
    const std::string& f = o.source_files[s];
    if (f.empty()) continue;
    if (f == "-") {
      sources[s] = detail::read_lines(std::cin);
      continue;
    }
    std::ifstream in(f);
    if (!in) throw std::runtime_error(fmt::format("cannot read the input file '{}'", f));
    sources[s] = detail::read_lines(in);
  }
  if (sources.empty()) sources.push_back(detail::read_lines(std::cin));
  if (o.command.empty() && sources.size() == 1) {
    auto& lines = sources[0];
    std::erase_if(lines, [](const std::string& l) {
      auto first = l.find_first_not_of(" \t");
      return first == std::string::npos || l[first] == '#';
    });
  }
  // Every combination, the first source varying slowest (GNU parallel's order).
  std::vector<Job> jobs;
  std::size_t total = 1;
  for (const auto& s : sources) total *= s.size();
  jobs.reserve(total);
  for (std::size_t k = 0; k < total; ++k) {
    Job j{static_cast<long>(k) + 1, std::vector<std::string>(sources.size())};
    std::size_t rest = k;
    for (std::size_t s = sources.size(); s-- > 0;) {
      j.values[s] = sources[s][rest % sources[s].size()];
      rest /= sources[s].size();
    }
    jobs.push_back(std::move(j));
  }
  return jobs;
}

}  // namespace farm
