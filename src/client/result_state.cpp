// The untyped part of a result's state, updated by the scheduler under the client lock.
#include <mpiply/detail/result_state.hpp>

namespace mpiply::detail {

ResultStateBase::ResultStateBase(std::shared_ptr<ClientCore> c, std::string f, std::size_t n)
    : core(std::move(c)), fname(std::move(f)), nitems(n) {
  reserve_huge(item_state, n);
  item_state.resize(n, ItemState::pending);
  reserve_huge(arrival, n);
}

ResultStateBase::~ResultStateBase() = default;

void ResultStateBase::item_ok(std::size_t item) {
  item_state[item] = ItemState::ok;
  arrival.push_back(static_cast<std::uint32_t>(item));
  if (++items_done == nitems) on_complete_locked();
}

void ResultStateBase::item_failed(std::size_t item, RemoteError err) {
  item_state[item] = ItemState::error;
  arrival.push_back(static_cast<std::uint32_t>(item));
  errors.push_back({item, std::move(err)});
  if (++items_done == nitems) on_complete_locked();
}

}  // namespace mpiply::detail
