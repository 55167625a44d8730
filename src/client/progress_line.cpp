// wait_interactive for results and for the client, and the progress line it draws.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <utility>

#include <fmt/format.h>

#include <mpiply/async_result.hpp>
#include <mpiply/client.hpp>
#include <mpiply/progress.hpp>

#include "client/client_core.hpp"
#include "support/terminal.hpp"

namespace mpiply {

namespace {

std::string duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.1f}s", s);
  auto t = static_cast<long long>(s + 0.5);
  if (t < 3600) return fmt::format("{}:{:02}", t / 60, t % 60);
  return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
}

std::string rate_text(double r) {
  if (r >= 1e5) return fmt::format("{:.3g}", r);
  if (r >= 100) return fmt::format("{:.0f}", r);
  return fmt::format("{:.1f}", r);
}

// tqdm's clock: mm:ss, or h:mm:ss from an hour on.
std::string clock_time(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  auto t = static_cast<long long>(s + 0.5);
  if (t < 3600) return fmt::format("{:02}:{:02}", t / 60, t % 60);
  return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
}

// The items of task msg ids [first, first + n) or of those msg(k) gives, by how they ended
// (lock held): reused tasks count as done and reused, aborted ones as not run.
template <class MsgOf>
ProgressCounts count_items_locked(const detail::ClientCore& core, std::size_t n, MsgOf msg_of) {
  ProgressCounts c;
  for (std::size_t k = 0; k < n; ++k) {
    const auto& r = core.rank0().table.record(msg_of(k));
    c.total += r.nitems;
    if (r.status == TaskStatus::aborted) {
      c.not_run += r.nitems;
    } else if (r.status == TaskStatus::ok || r.status == TaskStatus::error) {
      c.done += r.nitems;
      if (r.hub & detail::kReused) c.reused += r.nitems;
    }
  }
  return c;
}

// Waits in steps of `interval`, writing a line after each and a last one when finished (or when
// the timeout passes). On a terminal the line redraws; elsewhere each is a line of its own.
bool interactive_wait(const std::function<bool(Seconds)>& wait_step,
                      const std::function<ProgressCounts()>& counts,
                      const std::function<double()>& elapsed, std::size_t done_at_start,
                      Seconds interval, std::optional<Seconds> timeout, std::FILE* out) {
  if (!(interval.count() > 0))
    throw UsageError(fmt::format("wait_interactive: interval is {} s; it must be positive (e.g. "
                                 "std::chrono::seconds(1))",
                                 interval.count()));
  if (out == nullptr) throw UsageError("wait_interactive: the output stream is null");
  bool tty = detail::is_terminal(::fileno(out));
  std::optional<Deadline> deadline;
  if (timeout) deadline = deadline_after(*timeout);
  for (;;) {
    Seconds step = interval;
    if (deadline)
      step = std::max(Seconds(0), std::min<Seconds>(step, *deadline - SteadyClock::now()));
    bool done = wait_step(step);
    ProgressCounts c = counts();
    bool last = done || (deadline && SteadyClock::now() >= *deadline);
    std::string text;
    if (tty) {
      // The bar's rate leaves reused items out, as the line's does.
      std::string extra;
      if (c.reused) extra += fmt::format(", {} reused", c.reused);
      if (c.not_run) extra += fmt::format(", {} not run", c.not_run);
      std::size_t reused = std::min(c.reused, c.done);
      text = progress_redraw(progress_bar(c.done, c.total, elapsed(), done_at_start + reused,
                                          progress_width(out), extra)) +
             (last ? "\n" : "");
    } else {
      text = progress_line(c, elapsed(), done_at_start) + "\n";
    }
    std::fputs(text.c_str(), out);
    std::fflush(out);
    if (last) return done;
  }
}

}  // namespace

std::string progress_line(const ProgressCounts& c, double elapsed_seconds,
                          std::size_t done_at_start) {
  double pct = c.total ? 100.0 * double(c.done) / double(c.total) : 100.0;
  // Reused items took no time: a rate that counted them would promise an ETA nothing keeps.
  std::size_t ran = c.done - std::min(c.reused, c.done);
  double since = ran > done_at_start ? double(ran - done_at_start) : 0.0;
  double rate = elapsed_seconds > 0 ? since / elapsed_seconds : 0.0;
  std::size_t ended = c.done + c.not_run;
  std::string eta = ended >= c.total ? "0.0s"
                    : rate > 0       ? duration(double(c.total - ended) / rate)
                                     : "?";
  std::string parts;
  if (c.reused) parts += fmt::format(", {} reused", c.reused);
  if (c.not_run) parts += fmt::format(", {} not run", c.not_run);
  return fmt::format("{}/{} items ({:.1f}%){}  {} items/s  elapsed {}  ETA {}", c.done, c.total,
                     pct, parts, rate_text(rate), duration(elapsed_seconds), eta);
}

std::string progress_line(std::size_t done, std::size_t total, double elapsed_seconds,
                          std::size_t done_at_start) {
  return progress_line(ProgressCounts{done, total, 0, 0}, elapsed_seconds, done_at_start);
}

std::string progress_redraw(const std::string& line) { return "\r" + line + "\x1b[K"; }

std::string progress_bar(std::size_t done, std::size_t total, double elapsed_seconds,
                         std::size_t done_at_start, std::size_t width, std::string_view postfix) {
  double frac = total ? std::min(1.0, double(done) / double(total)) : 1.0;
  double since = done > done_at_start ? double(done - done_at_start) : 0.0;
  double rate = elapsed_seconds > 0 ? since / elapsed_seconds : 0.0;
  std::string eta = done >= total ? clock_time(0) : rate > 0 ? clock_time(double(total - done) / rate)
                                                             : "?";
  std::string left = fmt::format("{:3.0f}%|", std::floor(frac * 100));
  std::string right = fmt::format("| {}/{} [{}<{}, {} items/s{}]", done, total,
                                  clock_time(elapsed_seconds), eta, rate_text(rate), postfix);
  // The bar takes the columns left over (tqdm's dynamic width), at least 10.
  std::size_t used = left.size() + right.size();
  std::size_t cells = width > used + 10 ? width - used : 10;
  // Eighths of a cell, as tqdm's unicode bar: full blocks, then one partial block.
  static constexpr const char* kPartial[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  auto eighths = static_cast<std::size_t>(frac * double(cells) * 8);
  std::string bar;
  for (std::size_t k = 0; k < eighths / 8; ++k) bar += "█";
  std::size_t drawn = eighths / 8;
  if (drawn < cells) {
    bar += kPartial[eighths % 8];
    drawn += eighths % 8 ? 1 : 0;
  }
  bar.append(cells - drawn, ' ');
  return left + bar + right;
}

bool progress_redraws(std::FILE* out) { return out && detail::is_terminal(::fileno(out)); }

bool same_destination(std::FILE* a, std::FILE* b) {
  return a && b && detail::same_destination(::fileno(a), ::fileno(b));
}

std::size_t progress_width(std::FILE* out) {
  winsize ws{};
  if (out && ::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) >= 20) return std::size_t(std::atoi(c));
  return 80;
}

bool AsyncResultBase::wait_interactive(Seconds interval, std::optional<Seconds> timeout,
                                       std::FILE* out) const {
  auto counts = [this] {
    std::lock_guard lk(st_->core->rank0().mu);
    return count_items_locked(*st_->core, st_->ntasks, [this](std::size_t k) {
      return st_->msg(static_cast<std::uint32_t>(k));
    });
  };
  return interactive_wait([this](Seconds s) { return wait(s); }, counts,
                          [this] { return elapsed(); }, 0, interval, timeout, out);
}

bool Client::wait_interactive(Seconds interval, std::optional<Seconds> timeout,
                              std::FILE* out) const {
  // Items of every task so far (a task of a chunked map carries several).
  auto counts = [this] {
    std::lock_guard lk(core_->rank0().mu);
    MsgId base = core_->rank0().table.base_locked();
    return count_items_locked(*core_, core_->rank0().table.next_msg_locked() - base,
                              [base](std::size_t k) { return base + k; });
  };
  ProgressCounts c0 = counts();
  std::size_t done0 = c0.done - c0.reused;
  Deadline start = SteadyClock::now();
  return interactive_wait([this](Seconds s) { return wait(s); }, counts,
                          [start] { return Seconds(SteadyClock::now() - start).count(); }, done0,
                          interval, timeout, out);
}

}  // namespace mpiply
