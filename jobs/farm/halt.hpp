#pragma once
// farm: --halt, GNU parallel's rule for stopping a run early on failures:
//   never            run everything (the default)
//   soon,fail=N      once N commands have failed, start no new ones; wait for the running ones
//   now,fail=N       once N commands have failed, kill the running ones too
// N may be a percentage of all commands ("soon,fail=10%"). The exit status is fixed when it
// triggers, as GNU parallel's: for fail=1 the failed command's exit value (128 + its signal if a
// signal ended it), for fail=N the failures so far (at most 101), for a percentage the failures
// so far as a percentage of all commands, rounded up.
#include <cmath>
#include <cstddef>
#include <string>

namespace farm {

struct Halt {
  enum class When { never, soon, now } when = When::never;
  double fail = 0;       // a count, or a percentage when percent
  bool percent = false;

  // Whether `failed` failures among `total` commands trigger it.
  bool triggered(std::size_t failed, std::size_t total) const {
    if (when == When::never || failed == 0) return false;
    double limit = percent ? static_cast<double>(total) * fail / 100.0 : fail;
    return static_cast<double>(failed) >= limit;
  }
  // The exit status when it triggered on a command that ended with exitval/signal.
  int exit_status(std::size_t failed, std::size_t total, int exitval, int signal) const {
    if (percent)
      return static_cast<int>(std::ceil(100.0 * static_cast<double>(failed) /
                                        static_cast<double>(total ? total : 1)));
    if (fail == 1) return exitval != 0 ? exitval : signal != 0 ? signal + 128 : 0;
    return static_cast<int>(failed < 101 ? failed : 101);
  }
};

// Parses WHEN,fail=X; false with `why` set when it does not parse.
inline bool parse_halt(const std::string& s, Halt& h, std::string& why) {
  if (s == "never" || s == "0") {
    h = Halt{};
    return true;
  }
  auto comma = s.find(',');
  std::string when = s.substr(0, comma);
  if (when == "soon") h.when = Halt::When::soon;
  else if (when == "now") h.when = Halt::When::now;
  else {
    why = "the first part must be never, soon or now";
    return false;
  }
  std::string rule = comma == std::string::npos ? "" : s.substr(comma + 1);
  if (rule.rfind("fail=", 0) != 0) {
    why = "give the failures that stop it, as fail=N or fail=N% (e.g. now,fail=1)";
    return false;
  }
  std::string n = rule.substr(5);
  h.percent = !n.empty() && n.back() == '%';
  if (h.percent) n.pop_back();
  std::size_t used = 0;
  try {
    h.fail = std::stod(n, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != n.size() || !(h.fail > 0) || (h.percent && h.fail > 100)) {
    why = "fail= takes a count of 1 or more, or a percentage above 0 and at most 100";
    return false;
  }
  return true;
}

}  // namespace farm
