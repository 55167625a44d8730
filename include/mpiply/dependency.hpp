#pragma once
// Dependency: which earlier tasks a task waits for, as ipyparallel's Dependency. A task with
// `after` runs once its dependencies are met; with `follow` it also runs where they ran.
// all = every listed task must finish (false: any one); success / failure = which outcomes
// count as met. A dependency that can no longer be met fails the task with ImpossibleDependency.
//
//   Dependency(a, b)                  after a and b both succeeded (ipyparallel's default)
//   Dependency(a, b).any()            after either succeeded
//   Dependency(ar).on_failure()       after it failed (success no longer counts)
//   Dependency(ar).on_finish()        after it ended either way
// a and b may be msg ids (mpiply::MsgId only: a bool or another integer type does not compile),
// AsyncResults, AsyncMapResults (every task of the map), or vectors of any of these.
#include <concepts>
#include <cstdint>
#include <type_traits>
#include <vector>

#include <mpiply/errors.hpp>

namespace mpiply {

class AsyncResultBase;

namespace detail {
// Appends the msg ids of a result handle and records the client run they belong to; a handle
// of another run than `run` (when set) is a UsageError (src/client/dependency.cpp).
void add_result_ids(const AsyncResultBase& r, std::vector<MsgId>& ids, std::uint64_t& run);

template <class D>
struct is_dependency_part : std::bool_constant<std::is_integral_v<D> ||
                                               std::is_base_of_v<AsyncResultBase, D>> {};
template <class D>
struct is_dependency_part<std::vector<D>> : is_dependency_part<D> {};
}  // namespace detail

struct Dependency {
  std::vector<MsgId> msg_ids;
  bool all = true;       // every task must have finished as wanted (false: any one of them)
  bool success = true;   // a task that succeeded counts as met
  bool failure = false;  // a task that failed counts as met
  // The client run (mpiply::run call) the handles it was made from belong to; 0 when made from
  // msg ids only. Tasks of another run are a UsageError at submission.
  std::uint64_t run = 0;

  Dependency() = default;
  template <class... D>
    requires(sizeof...(D) > 0 && (detail::is_dependency_part<std::remove_cvref_t<D>>::value && ...))
  Dependency(const D&... parts) {  // NOLINT: implicit, so {.after = ar} reads as ipyparallel's
    (add(parts), ...);
  }

  // ipyparallel's all=False: met once any one task is.
  Dependency& any() & {
    all = false;
    return *this;
  }
  Dependency&& any() && { return std::move(any()); }
  // Met by tasks that failed only (success=False, failure=True).
  Dependency& on_failure() & {
    success = false;
    failure = true;
    return *this;
  }
  Dependency&& on_failure() && { return std::move(on_failure()); }
  // Met by tasks that ended either way (success=True, failure=True).
  Dependency& on_finish() & {
    success = failure = true;
    return *this;
  }
  Dependency&& on_finish() && { return std::move(on_finish()); }

  // Evaluated here, as ipyparallel's Dependency.check / unreachable, given which tasks succeeded
  // and which failed (the scheduler decides the same way for a task's after / follow).
  // check: the dependency is met. An empty dependency is always met.
  bool check(const std::vector<MsgId>& succeeded, const std::vector<MsgId>& failed = {}) const;
  // unreachable: it can never be met any more (a task it needs ended the other way). An empty
  // dependency never is.
  bool unreachable(const std::vector<MsgId>& succeeded,
                   const std::vector<MsgId>& failed = {}) const;

 private:
  template <class D>
  void add(const D& d) {
    if constexpr (std::is_integral_v<D>) {
      static_assert(std::is_same_v<D, MsgId>,
                    "Dependency: a msg id must be an mpiply::MsgId (from msg_ids()); a bool or "
                    "another integer type does not convert to one (Dependency(ar, true) would "
                    "name msg id 1): write mpiply::MsgId{n}, or use .any() / .on_failure() / "
                    ".on_finish() for the flags");
      msg_ids.push_back(d);
    } else if constexpr (std::is_base_of_v<AsyncResultBase, D>) {
      detail::add_result_ids(d, msg_ids, run);
    } else {
      for (const auto& x : d) add(x);
    }
  }
};

}  // namespace mpiply
