#pragma once
// The one rule for collective functions (MPIPLY_REGISTER_COLLECTIVE): they run as an apply on
// every engine at once, never on some engines, through a load-balanced view or in a map. An
// engine left out would never enter the collective and the others would wait for it for ever, so
// the views check here, before anything is sent, and raise UsageError instead.
#include <vector>

#include <mpiply/detail/registry.hpp>

namespace mpiply::detail {

class ClientCore;

enum class CollectiveUse {
  direct_apply,         // DirectView::apply: fine when the targets are every engine, once each
  engine_apply,         // EngineView::apply: fine only when there is one engine
  load_balanced_apply,  // one engine of the pool: never
  map,                  // each engine gets its own number of chunks: never
};

[[noreturn]] void throw_collective_misuse(const ClientCore& core, const FunctionEntry& e,
                                          CollectiveUse use, const std::vector<int>& targets);
bool targets_every_engine(const ClientCore& core, const std::vector<int>& targets);
// True when rank 0 also serves as an engine (RunOptions::client_runs_tasks).
bool core_client_runs_tasks(const ClientCore& core);

// Inline so that an ordinary function pays one flag test per call.
inline void check_collective_use(const ClientCore& core, const FunctionEntry& e,
                                 CollectiveUse use, const std::vector<int>& targets = {}) {
  if (!e.collective) return;
  bool ok = (use == CollectiveUse::direct_apply || use == CollectiveUse::engine_apply) &&
            targets_every_engine(core, targets) && !core_client_runs_tasks(core);
  if (!ok) throw_collective_misuse(core, e, use, targets);
}

}  // namespace mpiply::detail
