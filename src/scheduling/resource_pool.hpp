#pragma once
// The engines' resources as the scheduler counts them: what each engine holds (its inventory)
// and what is free now, after the grants of the tasks placed there and not yet finished. A
// grant takes whole amounts; GPUs are not interchangeable, so a grant names which of the
// engine's GPUs it holds (a bit per position in the engine's list).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <mpiply/resources.hpp>

#include "scheduling/scheduler_types.hpp"

namespace mpiply::detail {

class ResourcePool {
 public:
  // n engines holding one core each and nothing else (what an engine advertises by default).
  void reset(std::size_t n);
  // Engine e holds r from now on (at start-up, before any grant).
  void set(int e, const EngineResources& r);
  std::size_t size() const noexcept { return cap_.size(); }
  const EngineResources& capacity(int e) const { return cap_[static_cast<std::size_t>(e)]; }

  // Whether r fits in what engine e has free now / in all that it holds.
  bool fits(int e, const ResourceRequest& r) const { return fits_in(free_of(e), r); }
  bool could_fit(int e, const ResourceRequest& r) const;
  // Takes r from engine e's free amounts (fits(e, r) must hold); the lowest free GPUs go.
  Grant take(int e, const ResourceRequest& r);
  // Returns what take gave.
  void give_back(int e, const ResourceRequest& r, Grant g);

  unsigned free_cores(int e) const { return free_of(e).cores; }
  unsigned free_gpus(int e) const;

  // Why none of these engines can ever hold r ("" if one can): what r asks for, and the most
  // any of them holds, so the message says which amount to lower.
  std::string never_fits(const ResourceRequest& r, const std::vector<int>& engines) const;

 private:
  struct Free {
    unsigned cores = 1;
    std::uint32_t gpus = 0;  // bit i: the engine's i-th GPU is free
    std::uint64_t memory = 0;
    std::map<std::string, std::uint64_t> named;
  };
  const Free& free_of(int e) const { return free_[static_cast<std::size_t>(e)]; }
  static bool fits_in(const Free& f, const ResourceRequest& r);

  std::vector<EngineResources> cap_;
  std::vector<Free> free_;
};

}  // namespace mpiply::detail
