#pragma once
// Future<U>: what AsyncResult::then(f) returns, a handle on f's result computed on rank 0 when the
// result it follows has finished. get() gives f's value or rethrows what f (or the task before
// it) raised; then() chains further. Callbacks and continuations run on the thread that finishes
// the future: the progress thread or a thread waiting on a result, never under the client's lock;
// on the calling thread when the future has already finished.
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/errors.hpp>
#include <mpiply/time.hpp>

namespace mpiply {

template <class U>
class Future;

namespace detail {

// f(x)'s type, with void standing as mpiply::None (a Future always holds a value).
template <class F, class... A>
using then_value_t =
    std::conditional_t<std::is_void_v<std::invoke_result_t<F, A...>>, None,
                       std::decay_t<std::invoke_result_t<F, A...>>>;

template <class U>
struct FutureState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::optional<U> value;
  std::exception_ptr error;
  std::vector<std::function<void()>> callbacks;
  // Waits on what this future follows (an AsyncResult's wait drives rank 0's progress, so a
  // waiting thread need not rely on the progress thread).
  std::function<bool(std::optional<Seconds>)> upstream_wait;

  // Sets the outcome of f() and runs the callbacks, outside the lock.
  template <class F>
  void complete_with(F&& f) {
    std::optional<U> v;
    std::exception_ptr e;
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
        f();
        v.emplace();
      } else {
        v.emplace(f());
      }
    } catch (...) {
      e = std::current_exception();
    }
    std::vector<std::function<void()>> cbs;
    {
      std::lock_guard lk(mu);
      value = std::move(v);
      error = e;
      done = true;
      cbs.swap(callbacks);
    }
    cv.notify_all();
    for (auto& cb : cbs) cb();  // each one reports its own exception (see Future::then)
  }
};

}  // namespace detail

template <class U>
class Future {
 public:
  using value_type = U;
  explicit Future(std::shared_ptr<detail::FutureState<U>> st) : st_(std::move(st)) {}

  bool ready() const {
    std::lock_guard lk(st_->mu);
    return st_->done;
  }
  // Waits for the value (or error); false if the timeout passed first.
  bool wait(std::optional<Seconds> timeout = std::nullopt) const {
    std::optional<Deadline> deadline;
    if (timeout) deadline = deadline_after(*timeout);
    if (st_->upstream_wait && !st_->upstream_wait(timeout)) return false;
    std::unique_lock lk(st_->mu);
    auto done = [&] { return st_->done; };
    if (!deadline) {
      st_->cv.wait(lk, done);
      return true;
    }
    return st_->cv.wait_until(lk, *deadline, done);
  }
  // The value; rethrows what the continuation or the task before it raised. TimeoutError when
  // the timeout passes first.
  U get(std::optional<Seconds> timeout = std::nullopt) const {
    if (!wait(timeout))
      throw TimeoutError(fmt::format("Future::get: not ready within {:.3f} s; nothing is lost, "
                                     "wait again", timeout->count()));
    std::lock_guard lk(st_->mu);
    if (st_->error) std::rethrow_exception(st_->error);
    return *st_->value;
  }

  // Calls f(*this) once the future has finished: on the thread that finishes it, or at once on
  // this thread if it already has. An exception from f is reported on stderr and dropped.
  template <class F>
  void add_done_callback(F f) const {
    Future self = *this;
    auto run = [self, f = std::move(f)]() mutable {
      try {
        f(self);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "mpiply: a done callback of a Future raised: %s; ignored\n",
                     ex.what());
      } catch (...) {
        std::fprintf(stderr, "mpiply: a done callback of a Future raised; ignored\n");
      }
    };
    {
      std::lock_guard lk(st_->mu);
      if (!st_->done) {
        st_->callbacks.push_back(std::move(run));
        return;
      }
    }
    run();
  }

  // A Future of f(value); an error here skips f and passes on.
  template <class F>
  Future<detail::then_value_t<F, const U&>> then(F f) const {
    using V = detail::then_value_t<F, const U&>;
    auto next = std::make_shared<detail::FutureState<V>>();
    Future self = *this;
    next->upstream_wait = [self](std::optional<Seconds> t) { return self.wait(t); };
    auto st = st_;
    auto cont = [st, next, f = std::move(f)]() mutable {
      next->complete_with([&]() -> decltype(auto) {
        if (st->error) std::rethrow_exception(st->error);
        return f(*st->value);
      });
    };
    {
      std::lock_guard lk(st_->mu);
      if (!st_->done) {
        st_->callbacks.push_back(std::move(cont));
        return Future<V>(next);
      }
    }
    cont();
    return Future<V>(next);
  }

 private:
  std::shared_ptr<detail::FutureState<U>> st_;
};

}  // namespace mpiply
