#pragma once
// What every view shares: the scheduler it submits to, and turning a map call into a checked
// MapSource (lengths agree, chunksize positive, not a collective function) before anything is
// sent.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <mpiply/async_map_result.hpp>
#include <mpiply/async_result.hpp>
#include <mpiply/detail/collective.hpp>
#include <mpiply/detail/hub_access.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/hub.hpp>
#include <mpiply/map_options.hpp>
#include <mpiply/task_flags.hpp>

namespace mpiply::detail {

// The msg ids submitted through a view and its copies: (first msg id, tasks) per run of
// consecutive ids. A submission right after the last one extends its run, so a loop of calls
// through one view keeps one entry, not one per call. Copies of a view may be used on several
// threads at once (the client is), so the runs are kept under a lock of their own.
class ViewHistory {
 public:
  void add(MsgId first, std::uint32_t n) {
    std::lock_guard lk(mu_);
    if (!runs_.empty() && runs_.back().first + runs_.back().second == first &&
        runs_.back().second <= UINT32_MAX - n)
      runs_.back().second += n;
    else
      runs_.push_back({first, n});
  }
  std::vector<MsgId> ids() const {
    std::lock_guard lk(mu_);
    std::vector<MsgId> out;
    for (auto [first, n] : runs_)
      for (std::uint32_t k = 0; k < n; ++k) out.push_back(first + k);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<MsgId, std::uint32_t>> runs_;
};

class ViewBase {
 public:
  // The view's flags (task_flags.hpp); set fields replace the view's, empty ones keep them.
  const TaskFlags& flags() const noexcept { return flags_; }
  void set_flags(const TaskFlags& f) { flags_ = merge_flags(flags_, f); }

  // Restores the view's flags when it goes out of scope: { auto g = v.temp_flags({...}); ... }
  class FlagsGuard {
   public:
    FlagsGuard(ViewBase& v, const TaskFlags& f) : v_(v), saved_(v.flags_) { v.set_flags(f); }
    ~FlagsGuard() { v_.flags_ = saved_; }
    FlagsGuard(const FlagsGuard&) = delete;
    FlagsGuard& operator=(const FlagsGuard&) = delete;

   private:
    ViewBase& v_;
    TaskFlags saved_;
  };
  [[nodiscard]] FlagsGuard temp_flags(const TaskFlags& f) { return FlagsGuard(*this, f); }

  // The hub on a view (src/client/view_hub.cpp): msg ids submitted through this view (copies of a view
  // share them), waiting for all of them, aborting those not yet started.
  std::vector<MsgId> history() const;
  bool wait(std::optional<Seconds> timeout = std::nullopt) const;
  std::size_t abort() const;
  // As ipyparallel's View.abort(jobs) and View.get_result(jobs): tasks named as for the
  // Client's calls (msg ids, results, history positions, mpiply::all), of any view.
  std::size_t abort(const Jobs& jobs) const;
  AsyncResultBase get_result(const Jobs& jobs) const;
  template <class T>
  AsyncMapResult<T> get_result(const Jobs& jobs) const {
    return AsyncMapResult<T>(
        hub_typed_state<T>(core_, resolve_jobs(*core_, jobs, "get_result"), "get_result"), true);
  }

 protected:
  explicit ViewBase(std::shared_ptr<ClientCore> core) : core_(std::move(core)) {}

  template <class State>
  std::shared_ptr<State> start(std::shared_ptr<TaskSource> src, std::string fname,
                               std::size_t nitems) {
    return start_with(std::make_shared<State>(core_, std::move(fname), nitems), std::move(src));
  }
  // The same with a state the caller made (and filled) first.
  template <class State>
  std::shared_ptr<State> start_with(std::shared_ptr<State> st, std::shared_ptr<TaskSource> src) {
    src->state = st;
    src->flags = flags_;
    st->factory = &make_state<State>;
    if (src->ntasks) {
      std::uint32_t n = src->ntasks;
      MsgId first = core_submit(*core_, std::move(src));
      history_->add(first, n);
    }
    return st;
  }

  // The inputs' lengths must agree and chunksize be positive, checked before anything is sent.
  template <class F, class... In>
  auto build_map(F f, const MapOptions& opt, In&&... inputs) {
    const FunctionEntry& e = entry_of(f);
    check_collective_use(*core_, e, CollectiveUse::map);
    if (opt.chunksize < 1)
      throw UsageError(fmt::format("map({}): chunksize is {}, it must be at least 1", e.name,
                                   opt.chunksize));
    if (opt.max_outstanding != 0)
      throw UsageError(fmt::format("map({}): max_outstanding is {}, but a map submits every item "
                                   "at once; use imap (LoadBalancedView::imap) to bound the items "
                                   "on engines",
                                   e.name, opt.max_outstanding));
    auto src = std::make_shared<MapSource<F>>(std::move(inputs)...);
    src->fn_id = e.id;
    src->chunk = static_cast<std::size_t>(opt.chunksize);
    // Every sequence must have the length of the first; References broadcast.
    bool have = false;
    std::size_t k = 0;
    std::apply(
        [&](const auto&... a) {
          (
              [&](const auto& arg) {
                ++k;
                if (!arg.is_sequence()) return;
                if (!have) {
                  src->n = arg.length();
                  have = true;
                } else if (arg.length() != src->n) {
                  throw UsageError(fmt::format(
                      "map({}): sequence {} has {} items but the first has {}; every sequence "
                      "must have the same length",
                      e.name, k, arg.length(), src->n));
                }
              }(a),
              ...);
        },
        src->args);
    if (!have)
      throw UsageError(fmt::format(
          "map({}): no sequence to map over (all arguments are References)", e.name));
    return std::make_pair(src, e.name);
  }

  std::shared_ptr<ClientCore> core_;
  TaskFlags flags_;
  // What was submitted through this view and its copies, which share it.
  std::shared_ptr<ViewHistory> history_ = std::make_shared<ViewHistory>();
};

}  // namespace mpiply::detail
