// The calls the hub keeps for resubmit (kept_calls.hpp).
#include "hub/kept_calls.hpp"

namespace mpiply::detail {

namespace {
bool same_but_dependencies(const TaskFlags& a, const TaskFlags& b) {
  return a.retries == b.retries && a.timeout == b.timeout && a.targets == b.targets &&
         a.isolate == b.isolate && a.time_limit == b.time_limit && a.cores == b.cores &&
         a.gpus == b.gpus && a.memory == b.memory && a.resources == b.resources &&
         a.priority == b.priority && a.engines == b.engines;
}
}  // namespace

std::uint32_t KeptCalls::intern(const TaskFlags& f) {
  if (last_ < flags_.size() && same_but_dependencies(flags_[last_], f)) return last_;
  for (std::uint32_t i = 0; i < flags_.size(); ++i) {
    if (same_but_dependencies(flags_[i], f)) return last_ = i;
  }
  if (flags_.size() >= kMaxFlags) return kMaxFlags;
  TaskFlags& kept = flags_.emplace_back(f);
  kept.after.reset();
  kept.follow.reset();
  return last_ = static_cast<std::uint32_t>(flags_.size() - 1);
}

void KeptCalls::keep(KeptCall& k, const std::shared_ptr<TaskSource>& src) {
  std::span<const char> msg = src->sole_message();
  if (!msg.empty() && msg.size() <= CallArchive::kMaxMsg && src->ntasks == 1 && !src->team &&
      src->candidates.empty() && src->targets.size() <= 1) {
    std::uint32_t f = intern(src->flags);
    if (f != kMaxFlags) {
      k.v = arena_.put(msg, src->targets.empty() ? -1 : src->targets[0], f,
                       src->has_references);
      return;
    }
  }
  std::uint32_t slot;
  if (!free_sources_.empty()) {
    slot = free_sources_.back();
    free_sources_.pop_back();
    sources_[slot] = src;
  } else {
    slot = static_cast<std::uint32_t>(sources_.size());
    sources_.push_back(src);
    free_sources_.reserve(sources_.size());  // so that drop never allocates
  }
  k.v = kSourceTag | slot;
}

void KeptCalls::drop(KeptCall& k) {
  if (k.v == CallArchive::kNone) return;
  if (k.v & kSourceTag) {
    std::uint32_t slot = static_cast<std::uint32_t>(k.v & ~kSourceTag);
    sources_[slot].reset();
    free_sources_.push_back(slot);
  } else {
    arena_.drop(k.v);
  }
  k.v = CallArchive::kNone;
}

}  // namespace mpiply::detail
