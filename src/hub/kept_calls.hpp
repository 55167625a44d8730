#pragma once
// What the hub keeps of a submitted call so that resubmit can run it again. A one-task call
// whose message holds all of it (an apply) is kept as that message in the CallArchive, with its
// engine and its flags' id: its TaskSource and the source's allocations go as soon as the task
// has been sent. The flags are kept once for every submission that has the same (a view's flags
// are the same for every call made through it). Any other call keeps its source.
#include <cstdint>
#include <memory>
#include <vector>

#include <mpiply/detail/core.hpp>

#include "hub/call_archive.hpp"

namespace mpiply::detail {

// A submission's kept call, in 8 bytes (a loop of applies keeps one per call): where its
// archived message is, or which of KeptCalls' held sources it is, or neither (not a call, or
// dropped).
struct KeptCall {
  std::uint64_t v = CallArchive::kNone;
};

class KeptCalls {
 public:
  // Beyond this many distinct flags, calls keep their source (a job that varies them per call
  // would otherwise fill the table).
  static constexpr std::size_t kMaxFlags = 256;

  KeptCalls() = default;
  KeptCalls(const KeptCalls&) = delete;
  KeptCalls& operator=(const KeptCalls&) = delete;

  void keep(KeptCall& k, const std::shared_ptr<TaskSource>& src);
  void drop(KeptCall& k);
  static bool held(const KeptCall& k) noexcept { return k.v != CallArchive::kNone; }
  // The source a call was kept as, or null when it was archived (or not kept).
  std::shared_ptr<TaskSource> source(const KeptCall& k) const {
    if (k.v == CallArchive::kNone || !(k.v & kSourceTag)) return nullptr;
    return sources_[k.v & ~kSourceTag];
  }
  // An archived call (held, source() null): its message, engine and flags' id.
  ArchivedCall archived(const KeptCall& k) const { return arena_.get(k.v); }
  // Flags by id, with after and follow cleared (resubmit clears them anyway: the dependencies
  // were met, or not, the first time).
  const TaskFlags& flags(std::uint32_t id) const { return flags_[id]; }
  const CallArchive& arena() const noexcept { return arena_; }

 private:
  // The id of flags equal to f but for after and follow; kMaxFlags when the table is full.
  std::uint32_t intern(const TaskFlags& f);

  // KeptCall::v of a held source: this bit and its slot in sources_ (an archive reference never
  // has it: its block index is below 2^31).
  static constexpr std::uint64_t kSourceTag = std::uint64_t(1) << 63;

  CallArchive arena_;
  std::vector<std::shared_ptr<TaskSource>> sources_;  // calls kept as their source; null: free
  std::vector<std::uint32_t> free_sources_;           // free slots of sources_
  std::vector<TaskFlags> flags_;
  std::uint32_t last_ = 0;  // the flags interned last: a loop of calls through one view repeats them
};

}  // namespace mpiply::detail
