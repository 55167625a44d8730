// Done callbacks: attaching them to a result, handing them to the scheduler's queue when the
// result finishes (under the lock), and running them once the lock is released.
#include <atomic>
#include <cstdio>
#include <typeinfo>

#include <fmt/format.h>

#include <mpiply/async_result.hpp>
#include <mpiply/detail/type_name.hpp>

#include "client/callback_queue.hpp"
#include "client/client_core.hpp"

namespace mpiply {

namespace detail {

namespace {
// Completion order across every result of the process, for as_completed.
std::atomic<std::uint64_t> g_done_seq{0};
}  // namespace

void ResultStateBase::on_complete_locked() {
  done_seq = ++g_done_seq;
  if (done_callbacks.empty()) return;
  ProgressDriver& progress = core->rank0().progress;
  for (auto& fn : done_callbacks)
    progress.post_callback_locked({std::move(fn), fname, first_msg, ntasks});
  done_callbacks.clear();
  progress.wake_locked();
}

void run_callbacks(std::vector<PendingCallback>& cbs) noexcept {
  for (auto& cb : cbs) {
    std::string what;
    try {
      cb.fn();
      continue;
    } catch (const std::exception& ex) {
      what = fmt::format("{}: {}", demangle(typeid(ex).name()), ex.what());
    } catch (...) {
      what = "an exception of unknown type";
    }
    // Reported, never rethrown: the thread running it is the progress thread or a user's
    // wait, and neither may die of someone else's callback.
    try {
      std::string ids = cb.ntasks <= 1 ? fmt::format("msg id {}", cb.first_msg)
                                       : fmt::format("msg ids {}..{}", cb.first_msg,
                                                     cb.first_msg + cb.ntasks - 1);
      std::string line = fmt::format("mpiply: a done callback of '{}' ({}) raised {}; ignored\n",
                                     cb.fname, ids, what);
      std::fputs(line.c_str(), stderr);
      std::fflush(stderr);
    } catch (...) {
    }
  }
  cbs.clear();
}

}  // namespace detail

void AsyncResultBase::on_done(std::function<void()> fn) const {
  {
    std::lock_guard lk(st_->core->rank0().mu);
    if (st_->items_done != st_->nitems) {
      st_->done_callbacks.push_back(std::move(fn));
      return;
    }
  }
  // Already finished: at once, on the calling thread (reported like the others if it throws).
  std::vector<detail::PendingCallback> one;
  one.push_back({std::move(fn), st_->fname, st_->first_msg, st_->ntasks});
  detail::run_callbacks(one);
}

}  // namespace mpiply
