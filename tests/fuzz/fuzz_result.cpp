// Fuzz target: rank 0's handling of a result message, through the real
// ResultHandler::handle_result_locked on a single-rank (inline) ClientCore, so no MPI is involved.
// The input is a selector byte (which typed result state receives the items: plain data,
// strings, containers, optional/tuple, a Boost-serialised struct, a pull, a gather), a byte
// giving the task's item count (1 to 8), and then the result message an engine would send. Its
// first 8 bytes (the msg id) are XORed with the id rank 0 expects, so that an input whose id
// field is 0 answers the right task whatever ids came before it.
//
// How the bytes get in: the task is a call of fz_result_hook, which the inline engine runs
// inside the scheduler's dispatch, while the task is the oldest outstanding on engine 0; the hook
// hands the fuzz bytes to handle_result_locked as the transport would. (The inline engine's own
// answer then finds nothing outstanding and is dropped with a line on stderr, silenced here.)
//
// What must hold for every input: no crash or sanitizer report; every item of the task ends ok
// or failed, none pending; when check_result refuses the message (wrong msg id, an item count
// that does not match the task, bad framing), every item fails as MessageDecodeError; when it
// accepts it, every error item in it is an error in the state.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <mpiply/mpiply.hpp>
#include <mpiply/detail/namespace_sources.hpp>
#include <mpiply/detail/result_state.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/client_core.hpp"
#include "fuzz_functions.hpp"
#include "fuzz_input.hpp"
#include "wire/result_codec.hpp"

namespace {

namespace d = mpiply::detail;

std::shared_ptr<d::ClientCore> g_core;
const std::vector<char>* g_result = nullptr;  // what the hook hands to rank 0, once
int g_stderr = -1, g_devnull = -1;

void fz_result_hook() {
  const std::vector<char>* r = std::exchange(g_result, nullptr);
  if (!r) return;  // the task's later items
  g_core->rank0().results.handle_result_locked(0, r->data(), r->size(), 0);
  std::fflush(stderr);
  dup2(g_devnull, 2);  // until the submit returns (see above)
}

// A call of fz_result_hook with k items and no arguments.
struct HookSource : d::TaskSource {
  d::Bytes msg;
  HookSource(std::uint64_t fn, std::uint32_t k) {
    fn_id = fn;
    ntasks = 1;
    d::Writer w(msg);
    d::write_header(w, d::Kind::call, k, fn_id);
    for (std::uint32_t i = 0; i < k; ++i) w.u32(0);
  }
  std::size_t item_begin(std::uint32_t) const override { return 0; }
  std::uint32_t item_count(std::uint32_t) const override {
    d::TaskHeader h;
    std::memcpy(&h, msg.data(), sizeof h);
    return h.nitems;
  }
  std::span<const char> encode(std::uint32_t, d::Bytes&, std::vector<d::Segment>&) override {
    return {msg.data(), msg.size()};
  }
};

std::shared_ptr<d::ResultStateBase> make_state(std::uint8_t which, std::size_t k) {
  using mpiply_fuzz::FzPoint;
  const char* f = "fz_result_hook";
  switch (which % 9) {
    case 0: return std::make_shared<d::ResultState<int>>(g_core, f, k);
    case 1: return std::make_shared<d::ResultState<std::string>>(g_core, f, k);
    case 2: return std::make_shared<d::ResultState<std::vector<double>>>(g_core, f, k);
    case 3:
      return std::make_shared<d::ResultState<std::map<std::string, std::vector<int>>>>(g_core, f,
                                                                                        k);
    case 4:
      return std::make_shared<d::ResultState<std::optional<std::tuple<int, std::string>>>>(
          g_core, f, k);
    case 5: return std::make_shared<d::ResultState<FzPoint>>(g_core, f, k);
    case 6: return std::make_shared<d::PullState<std::vector<std::string>>>(g_core, f, k);
    case 7: return std::make_shared<d::GatherState<int>>(g_core, f, k);
    default: return std::make_shared<d::ResultState<mpiply::None>>(g_core, f, k);
  }
}

// The status byte of each item of a message check_result accepted.
std::vector<std::uint8_t> item_statuses(const std::vector<char>& m, std::uint32_t k) {
  d::Reader r(m.data() + sizeof(d::ResultHeader), m.size() - sizeof(d::ResultHeader));
  std::vector<std::uint8_t> out;
  for (std::uint32_t i = 0; i < k; ++i) {
    out.push_back(r.u8());
    r.sub(r.u32());
  }
  return out;
}

}  // namespace

MPIPLY_REGISTER(fz_result_hook);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::uint64_t hook_id = d::entry_of(&fz_result_hook).id;
  if (g_devnull < 0) {
    g_devnull = open("/dev/null", O_WRONLY);
    g_stderr = dup(2);
  }
  // A fresh scheduler now and then, so its task table does not grow without bound.
  static unsigned runs = 0;
  if (!g_core || runs++ % 4096 == 0)
    g_core = std::make_shared<d::ClientCore>(MPI_COMM_NULL, std::vector<d::EngineInfo>{}, 4);

  mpiply_fuzz::InputCursor in(data, size);
  std::uint8_t which = in.byte();
  std::uint32_t k = 1 + in.byte() % 8;
  std::string_view body = in.rest();
  std::vector<char> result(body.begin(), body.end());  // exact size: ASan sees any overread
  mpiply::MsgId expect;
  {
    std::lock_guard lk(g_core->rank0().mu);
    expect = g_core->rank0().table.next_msg_locked();
  }
  if (result.size() >= sizeof(std::uint64_t)) {
    std::uint64_t id;
    std::memcpy(&id, result.data(), sizeof id);
    id ^= expect;
    std::memcpy(result.data(), &id, sizeof id);
  }

  auto state = make_state(which, k);
  auto src = std::make_shared<HookSource>(hook_id, k);
  src->state = state;
  g_result = &result;
  mpiply::MsgId id = g_core->submit(src);
  dup2(g_stderr, 2);
  FUZZ_CHECK(g_result == nullptr);  // the hook ran and handed the bytes over
  FUZZ_CHECK(id == expect);

  std::lock_guard lk(g_core->rank0().mu);
  d::ResultHeader h{};
  std::string problem = d::check_result(result.data(), result.size(), expect, k, h);
  if (mpiply_fuzz::verbose()) {
    std::fprintf(stderr, "  state %d, %u items, %zu failed; check: %s\n", which % 9, k,
                 state->errors.size(), problem.empty() ? "ok" : problem.c_str());
    for (const auto& e : state->errors)
      std::fprintf(stderr, "    item %zu: %s\n", e.index, e.error.what());
  }
  FUZZ_CHECK(state->items_done == k);
  for (std::uint32_t i = 0; i < k; ++i) FUZZ_CHECK(state->item_state[i] != d::ItemState::pending);
  const d::TaskRecord& rec = g_core->rank0().table.record(id);
  FUZZ_CHECK(rec.hub & d::kStateTaken);  // the task finished and gave its state back
  FUZZ_CHECK(state.use_count() == 1);    // so the hub let it go: only this function holds it
  if (!problem.empty()) {
    FUZZ_CHECK(rec.status == mpiply::TaskStatus::error);
    FUZZ_CHECK(state->errors.size() == k);
    for (const auto& e : state->errors) {
      FUZZ_CHECK(e.error.kind() == mpiply::ErrorKind::decode);
      FUZZ_CHECK(e.error.msg_id() == expect);
    }
    return 0;
  }
  auto statuses = item_statuses(result, k);
  bool any_error = false;
  for (std::uint32_t i = 0; i < k; ++i) {
    if (statuses[i] == static_cast<std::uint8_t>(d::ItemStatus::error))
      FUZZ_CHECK(state->item_state[i] == d::ItemState::error);
    any_error = any_error || state->item_state[i] == d::ItemState::error;
  }
  FUZZ_CHECK(rec.status == (any_error ? mpiply::TaskStatus::error : mpiply::TaskStatus::ok));
  return 0;
}
