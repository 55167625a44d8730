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

using Counts = std::pair<std::size_t, std::size_t>;  // done, total

// Waits in steps of `interval`, writing a line after each and a last one when finished (or when
// the timeout passes). On a terminal the line redraws; elsewhere each is a line of its own.
bool interactive_wait(const std::function<bool(Seconds)>& wait_step,
                      const std::function<Counts()>& counts,
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
    auto [d, t] = counts();
    bool last = done || (deadline && SteadyClock::now() >= *deadline);
    std::string text = tty ? progress_redraw(progress_bar(d, t, elapsed(), done_at_start,
                                                          progress_width(out))) +
                                 (last ? "\n" : "")
                           : progress_line(d, t, elapsed(), done_at_start) + "\n";
    std::fputs(text.c_str(), out);
    std::fflush(out);
    if (last) return done;
  }
}

}  // namespace

std::string progress_line(std::size_t done, std::size_t total, double elapsed_seconds,
                          std::size_t done_at_start) {
  double pct = total ? 100.0 * double(done) / double(total) : 100.0;
  double since = done > done_at_start ? double(done - done_at_start) : 0.0;
  double rate = elapsed_seconds > 0 ? since / elapsed_seconds : 0.0;
  std::string eta = done >= total ? "0.0s" : rate > 0 ? duration(double(total - done) / rate) : "?";
  return fmt::format("{}/{} items ({:.1f}%)  {} items/s  elapsed {}  ETA {}", done, total, pct,
                     rate_text(rate), duration(elapsed_seconds), eta);
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

std::size_t progress_width(std::FILE* out) {
  winsize ws{};
  if (out && ::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) >= 20) return std::size_t(std::atoi(c));
  return 80;
}

bool AsyncResultBase::wait_interactive(Seconds interval, std::optional<Seconds> timeout,
                                       std::FILE* out) const {
  return interactive_wait([this](Seconds s) { return wait(s); },
                          [this] { return Counts{progress(), size()}; },
                          [this] { return elapsed(); }, 0, interval, timeout, out);
}

bool Client::wait_interactive(Seconds interval, std::optional<Seconds> timeout,
                              std::FILE* out) const {
  // Items of every task so far (a task of a chunked map carries several).
  auto counts = [this] {
    std::lock_guard lk(core_->mu);
    Counts c{0, 0};
    for (MsgId id = core_->base_locked(); id < core_->next_msg_locked(); ++id) {
      const auto& r = core_->record(id);
      c.second += r.nitems;
      if (r.status != TaskStatus::queued && r.status != TaskStatus::sent) c.first += r.nitems;
    }
    return c;
  };
  std::size_t done0 = counts().first;
  Deadline start = SteadyClock::now();
  return interactive_wait([this](Seconds s) { return wait(s); }, counts,
                          [start] { return Seconds(SteadyClock::now() - start).count(); }, done0,
                          interval, timeout, out);
}

}  // namespace mpiply
