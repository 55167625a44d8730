// Rank 0's links to its engines (engine_links.hpp): a task's message sent (or handed to rank 0's
// own engine), results polled from the inbox, whether a message has left rank 0, and the stop
// message at the end.
#include "client/engine_links.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/result_handler.hpp"
#include "support/clock.hpp"
#include "support/idle_yield.hpp"
#include "support/mpi_check.hpp"
#include "wire/bundle.hpp"

namespace mpiply::detail {

EngineLinks::EngineLinks(const EngineRoster& roster, const TaskTable& table,
                         ResultHandler& results, LiveOutputs& live)
    : roster_(roster), table_(table), results_(results), live_(live),
      rank0_engine_(roster, results) {
  slots_.resize(roster_.num_engines());
  for (auto& s : slots_) s.ring.resize(static_cast<std::size_t>(roster_.deepest()));
  if (!roster_.inline_mode()) {
    inbox_ = std::make_unique<ResultInbox>(roster_.comm(), roster_.mpi_engines());
    abort_out_ = std::make_unique<AbortOutbox>(roster_.comm());
  }
}

namespace {
// A larger task travels alone: copying it into a bundle would cost more than its own message.
constexpr std::size_t kBundledTaskMaxBytes = 1024;
}  // namespace

void EngineLinks::transmit_locked(int e, InFlight& f, std::span<const char> msg,
                                  const std::vector<Segment>& segs, bool short_call,
                                  unsigned window) {
  if (roster_.inline_mode() || e == roster_.local_id()) {
    rank0_engine_.submit_locked(e, msg, segs);
    return;
  }
  EngineSlot& s = slots_[static_cast<std::size_t>(e)];
  f.lead = kNoLead;
  if (batching_ && segs.empty() && msg.size() <= kBundledTaskMaxBytes) {
    std::size_t piece = BundleWriter::piece_bytes(msg.size());
    // Half the engine's window: two bundles in flight, so the engine runs one while rank 0
    // handles the other's results (one bundle of the whole window would make them take turns).
    unsigned max_pieces = std::min<unsigned>(kBundleMaxPieces, std::max(1u, window / 2));
    if (s.staged > 0 && (s.staged >= max_pieces || s.staged_bytes + piece > kTaskInboxBytes))
      send_staged_locked(e);
    if (s.staged == 0) {
      staged_engines_.push_back(e);
      s.staged_first = static_cast<unsigned>(&f - s.ring.data());
      s.staged_bytes = BundleWriter::kHeaderBytes;
      s.staged_hold = true;
    }
    f.staged = msg;
    ++s.staged;
    s.staged_bytes += piece;
    s.staged_hold = s.staged_hold && short_call;
    return;
  }
  if (s.staged > 0) send_staged_locked(e);  // the tasks before this one go first
  int dest = e + 1;
  isend_message(roster_.comm(), dest, kTagTask, kTagBigTask, msg, kTaskInboxBytes, f.env, f.req,
                f.big_req);
  f.seg_reqs.clear();
  for (const Segment& sg : segs) {
    for (std::size_t off = 0; off < sg.size; off += kSegmentPiece) {
      std::size_t len = std::min<std::size_t>(kSegmentPiece, sg.size - off);
      MPI_Request r;
      mpi_check(MPI_Isend(sg.data + off, static_cast<int>(len), MPI_BYTE, dest, kTagSegment,
                          roster_.comm(), &r),
                "MPI_Isend");
      f.seg_reqs.push_back(r);
    }
  }
}

// The staged tasks follow each other in the ring from s.staged_first. One goes as it is; more go
// as a bundle in the first one's buffer and requests.
void EngineLinks::send_staged_locked(int e) {
  EngineSlot& s = slots_[static_cast<std::size_t>(e)];
  unsigned n = std::exchange(s.staged, 0u);
  auto at = [&](unsigned k) -> InFlight& { return s.ring[(s.staged_first + k) % s.ring.size()]; };
  InFlight& lead = at(0);
  std::span<const char> msg = std::exchange(lead.staged, {});
  lead.seg_reqs.clear();
  if (n > 1) {
    BundleWriter w(lead.bundle);
    w.begin(s.staged_hold ? kBundleHoldResults : 0);
    w.add(msg);
    for (unsigned k = 1; k < n; ++k) {
      InFlight& f = at(k);
      w.add(std::exchange(f.staged, {}));
      f.lead = lead.msg;
      f.req = f.big_req = MPI_REQUEST_NULL;
      f.seg_reqs.clear();
    }
    msg = {lead.bundle.data(), lead.bundle.size()};
  }
  isend_message(roster_.comm(), e + 1, kTagTask, kTagBigTask, msg, kTaskInboxBytes, lead.env,
                lead.req, lead.big_req);
}

EngineLinks::Batch::~Batch() noexcept(false) {
  if (outer_) return;  // a batch inside another: the outer one sends
  links_.batching_ = false;
  std::vector<int> engines;
  engines.swap(links_.staged_engines_);
  if (std::uncaught_exceptions() > 0) return;  // the job is ending with that error
  for (int e : engines)
    if (links_.slots_[static_cast<std::size_t>(e)].staged > 0) links_.send_staged_locked(e);
  engines.clear();
  links_.staged_engines_.swap(engines);  // keep the capacity
}

namespace {
// What a source waiting to be freed may hold at most: its message, when that is all of it.
constexpr std::size_t kSpentSourceMaxBytes = 4096;
// Sources held at once; more than that are freed at once (a result that is never followed by
// a send or a poll keeps at most this many small sources).
constexpr std::size_t kMaxSpentSources = 64;
}  // namespace

void EngineLinks::release_source_locked(std::shared_ptr<TaskSource>& src) {
  if (src && src.use_count() == 1 && src->ntasks == 1 && spent_.size() < kMaxSpentSources) {
    std::span<const char> msg = src->sole_message();
    if (!msg.empty() && msg.size() <= kSpentSourceMaxBytes) {
      spent_.push_back(std::move(src));
      return;
    }
  }
  src.reset();
}

bool EngineLinks::poll_results_locked() {
  free_spent_locked();
  std::int64_t received = 0;  // one clock read per message: a bundle's results came together
  int n = inbox_->poll(
      [&](int e, const char* p, std::size_t len, bool first) {
        if (first) received = now_ns();
        results_.handle_result_locked(e, p, len, received);
      },
      [&] { return results_.tasks_in_flight_locked() > 0; });
  if (live_.streaming())  // stream hook: running tasks' output and data (live_outputs.hpp)
    n += live_.poll(roster_.comm(), [this](MsgId id, int& e) {
      if (id < table_.base_locked() || id >= table_.next_msg_locked() ||
          table_.record(id).status != TaskStatus::sent)
        return false;
      e = table_.record(id).engine;
      return true;
    });
  n += rank0_engine_.poll_locked();
  return n > 0;
}

bool EngineLinks::sent_locked(MsgId first, std::uint32_t n) {
  for (MsgId id = first; id < first + n; ++id)
    if (!sent_locked(id)) return false;
  return true;
}

bool EngineLinks::sent_locked(MsgId id) {
  {
    const TaskRecord& r = table_.record(id);
    if (r.status == TaskStatus::queued) return false;
    if (r.status != TaskStatus::sent || roster_.inline_mode()) return true;
    EngineSlot& s = slots_[r.engine];
    for (unsigned k = 0; k < s.count; ++k) {
      InFlight* g = &s.ring[(s.head + k) % s.ring.size()];
      if (g->msg != id) continue;
      if (!g->staged.empty()) return false;
      if (g->lead != kNoLead) {
        // Sent in its lead's bundle: by the lead's request while the lead is outstanding; once
        // the lead was answered, the bundle had arrived.
        InFlight* lead = nullptr;
        for (unsigned j = 0; j < k; ++j) {
          InFlight& c = s.ring[(s.head + j) % s.ring.size()];
          if (c.msg == g->lead) lead = &c;
        }
        if (!lead) continue;
        g = lead;
      }
      InFlight& f = *g;
      NoIdleYield quiet;  // polled with mpiply's own back-off (idle_yield.hpp)
      int done = 0;
      mpi_check(MPI_Test(&f.req, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (!done) return false;
      mpi_check(MPI_Test(&f.big_req, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (!done) return false;
      if (!f.seg_reqs.empty()) {
        mpi_check(MPI_Testall(static_cast<int>(f.seg_reqs.size()), f.seg_reqs.data(), &done,
                              MPI_STATUSES_IGNORE),
                  "MPI_Testall");
        if (!done) return false;
      }
    }
  }
  return true;
}

void EngineLinks::close_and_stop(int code) {
  rank0_engine_.close();  // drained: its worker is idle
  inbox_.reset();
  abort_out_.reset();  // its sends complete: every engine still has its abort receive posted
  TaskHeader h{};
  h.kind = Kind::stop;
  h.fn_id = static_cast<std::uint64_t>(static_cast<std::int64_t>(code));
  for (int e = 0; e < roster_.mpi_engines(); ++e)
    mpi_check(MPI_Send(&h, sizeof h, MPI_BYTE, e + 1, kTagTask, roster_.comm()),
              "MPI_Send");
}

}  // namespace mpiply::detail
