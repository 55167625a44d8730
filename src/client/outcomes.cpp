// get(mpiply::return_exceptions): each item's error, after waiting, for Outcome<T>.
#include <fmt/format.h>

#include <mpiply/async_result.hpp>

#include "client/client_core.hpp"

namespace mpiply {

std::vector<std::optional<RemoteError>> AsyncResultBase::item_errors(
    std::optional<Seconds> timeout) const {
  if (!wait(timeout))
    throw TimeoutError(fmt::format("get(return_exceptions): {} of {} items of {} not ready "
                                   "within {:.3f} s; nothing is lost, wait again",
                                   st_->nitems - progress(), st_->nitems, st_->fname,
                                   timeout->count()));
  std::vector<std::optional<RemoteError>> out(st_->nitems);
  std::lock_guard lk(st_->core->rank0().mu);
  take_locked();
  for (const auto& e : st_->errors) out[e.index] = e.error;
  return out;
}

}  // namespace mpiply
