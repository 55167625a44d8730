// MPI set-up with a checked thread level; finalised only by the Environment that initialised it.
#include <mpiply/environment.hpp>

#include <mpi.h>

#include <cstdlib>

#include <fmt/format.h>

#include "support/sanitizers.hpp"
#if MPIPLY_ASAN
#include <sanitizer/allocator_interface.h>
#include <sanitizer/lsan_interface.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#endif

#include <mpiply/errors.hpp>

#include "runtime/inventory.hpp"
#include "runtime/node_crowding.hpp"
#include "runtime/thread_level.hpp"

namespace mpiply {

namespace {

// Under AddressSanitizer, what MPI allocates in MPI_Init and MPI_Finalize, on any thread (PMIx
// and Open MPI's runtime have their own), is MPI's to keep: LeakSanitizer is told to ignore it.
// A test program then exits with no leak for LeakSanitizer to hold against tools/lsan.supp,
// which would start a symbolizer in every process (docs/testing.md).
#if MPIPLY_ASAN
class MpiAllocations {
 public:
  // Called before any thread but this one exists (the hooks are installed once).
  MpiAllocations() {
    // Both hooks are required (a null one is refused).
    static const bool installed =
        __sanitizer_install_malloc_and_free_hooks(&note, [](const volatile void*) {}) != 0;
    open_ = installed;
  }
  // Each allocation noted while open, unless freed since: a pointer no longer allocated is
  // refused by LeakSanitizer, and one allocated again meanwhile was allocated by MPI's threads.
  // Beyond the array's size they are not noted: LeakSanitizer then reports them, and
  // tools/lsan.supp matches them as before.
  ~MpiAllocations() {
    open_ = false;
    std::size_t n = std::min(count_.exchange(0), noted_.size());
    for (std::size_t i = 0; i < n; ++i)
      if (const void* p = noted_[i].exchange(nullptr, std::memory_order_acquire))
        __lsan_ignore_object(p);
  }

 private:
  // The hook runs before the new block counts as allocated, so it only notes the address.
  static void note(const volatile void* p, std::size_t) {
    if (!open_.load(std::memory_order_relaxed)) return;
    std::size_t i = count_.fetch_add(1, std::memory_order_relaxed);
    if (i < noted_.size()) noted_[i].store(const_cast<const void*>(p), std::memory_order_release);
  }
  static inline std::atomic<bool> open_{false};
  static inline std::atomic<std::size_t> count_{0};
  static inline std::array<std::atomic<const void*>, 1 << 16> noted_{};
};
#else
struct MpiAllocations {};
#endif

}  // namespace

Environment::Environment(int& argc, char**& argv) {
  detail::ThreadLevelChoice level = detail::choose_thread_level(
      std::getenv("MPIPLY_MPI_THREAD_LEVEL"), detail::mpi_is_open_mpi());
  if (!level.error.empty()) throw StartupError(level.error);
  detail::NodeCrowding node = detail::read_node_crowding();
  detail::apply_node_crowding(node);
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = 0;
  if (!initialized) {
    detail::note_bound_cores();  // before MPI starts threads that may read the environment
    detail::prepare_mpi_for_node(node);
    int rc = [&] {
      [[maybe_unused]] MpiAllocations mpis;
      return MPI_Init_thread(&argc, &argv, level.requested, &provided);
    }();
    if (rc != MPI_SUCCESS) throw StartupError("mpiply: MPI_Init_thread failed");
    owns_ = true;
  } else {
    MPI_Query_thread(&provided);
  }
  if (provided < level.needed) {
    std::string msg = fmt::format(
        "mpiply: MPI provides {} but {} {}{}; {}", detail::thread_level_name(provided),
        level.named ? "MPIPLY_MPI_THREAD_LEVEL asks for" : "mpiply needs",
        detail::thread_level_name(level.needed),
        level.named ? "" : " (rank 0 runs a progress thread that takes turns with the user's)",
        owns_ ? "use an MPI library built with thread support"
              : fmt::format("initialise MPI with MPI_Init_thread(..., {}, ...)",
                            detail::thread_level_name(level.needed)));
    if (owns_) MPI_Finalize();
    owns_ = false;
    throw StartupError(msg);
  }
}

Environment::~Environment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_ && !finalized) {
    [[maybe_unused]] MpiAllocations mpis;
    MPI_Finalize();
  }
}

}  // namespace mpiply
