#pragma once
// farm: what rank 0 prints. Each command's stdout and stderr in one piece (never interleaved
// with another command's), in the order commands finish or, with -k, in input order; and the
// progress: mpiply's bar redrawn on a terminal (as wait_interactive draws it), a plain line at
// most every 10 s and a last one in a log.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include <fmt/core.h>

#include <mpiply/progress.hpp>

#include "../common/program_name.hpp"

namespace farm {

class Printer {
 public:
  // total: the commands this run will report; keep_order: -k; force_bar: --bar.
  Printer(std::size_t total, bool keep_order, bool force_bar)
      : total_(total), keep_order_(keep_order), start_(std::chrono::steady_clock::now()) {
    bar_ = force_bar || mpiply::progress_redraws(stderr);
    // When stdout and stderr end in the same place (one terminal, or a log written with
    // `> log 2>&1`), everything goes to stdout: mpirun forwards the two streams separately and
    // does not keep their order, and only one stream does (each command's stderr after its
    // stdout, no command output after the final "N/N").
    err_out_ = mpiply::same_destination(stdout, stderr) ? stdout : stderr;
    bar_out_ = bar_ && !force_bar && mpiply::progress_redraws(stdout) ? stdout : err_out_;
    width_ = mpiply::progress_width(bar_out_);
  }

  // The output of the command at position `pos` (0-based, in input order among those run).
  void output(std::size_t pos, std::string out, std::string err) {
    if (!keep_order_) return write(out, err);
    waiting_.emplace(pos, std::make_pair(std::move(out), std::move(err)));
    for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_;
         it = waiting_.erase(it), ++next_)
      write(it->second.first, it->second.second);
  }

  // A command was reported (after its output): counts and progress.
  void finished(bool ok) {
    ++done_;
    failed_ += ok ? 0 : 1;
    draw(done_ == total_);
  }

  // After the last command: whatever -k still holds (commands skipped by --halt leave gaps) and
  // the last progress line.
  void close() {
    for (auto& [pos, o] : waiting_) write(o.first, o.second);
    waiting_.clear();
    if (!closed_) draw(true);
  }

  std::size_t failed() const { return failed_; }
  std::size_t done() const { return done_; }

 private:
  void write(const std::string& out, const std::string& err) {
    if (out.empty() && err.empty()) return;
    if (drawn_) {  // wipe the bar: output must not land after it on its line
      std::fputs("\r\x1b[K", bar_out_);
      std::fflush(bar_out_);
      drawn_ = false;
    }
    // Each stream in one write, flushed: outputs of different commands never interleave.
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    std::fwrite(err.data(), 1, err.size(), err_out_);
    std::fflush(err_out_);
    redraw_ = bar_;  // finished() draws it again below the output
  }

  void draw(bool last) {
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - start_).count();
    if (bar_) {
      // Redraws at most 20 times a second (and always the last one and after an output).
      if (!last && !redraw_ && now - last_draw_ < std::chrono::milliseconds(50)) return;
      redraw_ = false;
      last_draw_ = now;
      std::string line = mpiply::progress_bar(done_, total_, elapsed, 0, width_,
                                              fmt::format(", {} failed", failed_));
      std::string text = mpiply::progress_redraw(line) + (last ? "\n" : "");
      std::fputs(text.c_str(), bar_out_);
      std::fflush(bar_out_);
      drawn_ = !last;
    } else if (last || now - last_draw_ > std::chrono::seconds(10)) {
      last_draw_ = now;
      fmt::print(err_out_, "{}: {}/{} done, {} failed\n", jobs::tool_name(), done_, total_,
                 failed_);
      std::fflush(err_out_);
    }
    closed_ = last;
  }

  std::size_t total_, done_ = 0, failed_ = 0, next_ = 0;
  bool keep_order_, bar_ = false, drawn_ = false, closed_ = false, redraw_ = false;
  std::FILE* bar_out_ = stderr;
  std::FILE* err_out_ = stderr;  // the commands' stderr and the progress lines
  std::size_t width_ = 80;
  std::chrono::steady_clock::time_point start_, last_draw_{};
  std::map<std::size_t, std::pair<std::string, std::string>> waiting_;
};

}  // namespace farm
