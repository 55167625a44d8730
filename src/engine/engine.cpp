// The engine a task runs on, reachable from inside registered functions.
#include <mpiply/engine.hpp>

#include <fmt/format.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/errors.hpp>

namespace mpiply {

namespace {
thread_local Engine* current = nullptr;
}

Engine& this_engine() {
  if (!current)
    throw UsageError("mpiply::this_engine() called outside a task; only registered functions "
                     "running on an engine have one");
  return *current;
}

namespace detail {
bool in_task() noexcept { return current != nullptr; }
CurrentEngine::CurrentEngine(Engine& eng) : prev_(current) { current = &eng; }
CurrentEngine::~CurrentEngine() { current = prev_; }

[[noreturn]] void throw_short_read(std::size_t wanted, std::size_t left) {
  throw ValueDecodeError(fmt::format("message too short: needed {} more bytes, {} left (corrupt or "
                                "mismatched message)",
                                wanted, left));
}
[[noreturn]] void throw_implausible_count(std::uint64_t n) {
  throw ValueDecodeError(fmt::format("a container of empty elements claims {} of them (more than {}); "
                                "the message is corrupt",
                                n, kMaxEmptyElements));
}
}  // namespace detail

}  // namespace mpiply
