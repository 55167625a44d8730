#pragma once
// Receiving task and result messages without a matched probe. Each receiver keeps two persistent
// receives posted per peer, so a small message lands straight in a waiting buffer: no probe, no
// copy out of MPI's unexpected-message queue. (Improbe + Mrecv cost ~1,750 instructions a message
// in Open MPI 4.1 against ~1,250 for a receive, on both ends of every task.)
//
// A message larger than the posted buffers travels as a 16-byte envelope giving its size (a size
// no real task or result message has), followed by the message itself on its own tag; the
// receiver then receives it whole into a buffer of that size.
#include <cstdint>
#include <exception>
#include <span>
#include <utility>
#include <vector>

#include <mpi.h>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/errors.hpp>

#include "support/idle_yield.hpp"
#include "support/trace_points.hpp"
#include "wire/bundle.hpp"

namespace mpiply::detail {

// Posted buffer sizes. The sender must know the receiver's: they are constants of the protocol.
inline constexpr std::size_t kTaskInboxBytes = std::size_t(64) << 10;   // per engine, x2
inline constexpr std::size_t kResultInboxBytes = std::size_t(16) << 10;  // each receive of the ResultInbox ring
inline constexpr int kTagBigTask = 15;
inline constexpr int kTagBigResult = 16;

// The largest task or result message: MPI counts are int, so 2 GiB - 1 bytes. The environment
// variable MPIPLY_MAX_MESSAGE_BYTES lowers it (tests use that to reach the limit cheaply). A
// task over it fails with MessageTooLarge before it is sent; a result over it comes back as that
// error instead; the job goes on.
std::size_t max_message_bytes();
// Turns an over-limit result message into one MessageTooLarge error per item.
void replace_with_too_large(Bytes& out);

struct Envelope {
  std::uint64_t magic;
  std::uint64_t size;
};
inline constexpr std::uint64_t kEnvelopeMagic = 0x4d5049504c59424bull;  // "MPIPLYBK"

// Sends one message: directly if it fits the receiver's posted buffer, else envelope + message.
// Nonblocking: the caller keeps env, msg and both requests alive until they complete.
void isend_message(MPI_Comm comm, int dest, int tag, int big_tag, std::span<const char> msg,
                   std::size_t inbox_bytes, Envelope& env, MPI_Request& req, MPI_Request& big_req);
// Blocking form, for engines sending results.
void send_message(MPI_Comm comm, int dest, int tag, int big_tag, std::span<const char> msg,
                  std::size_t inbox_bytes);

// An engine's receiver of task messages from rank 0. A bundle (bundle.hpp) is handed out a piece
// per poll; its buffer is posted again once the last piece is out.
class TaskInbox {
 public:
  explicit TaskInbox(MPI_Comm comm);
  ~TaskInbox();
  TaskInbox(const TaskInbox&) = delete;
  TaskInbox& operator=(const TaskInbox&) = delete;
  // The next message if one has arrived; the bytes stay valid until the next poll.
  bool poll(std::span<const char>& msg);
  // Pieces of the current bundle not handed out yet (0 after a message that came alone).
  std::uint32_t pieces_left() const { return pieces_.left(); }
  // The current bundle's kBundle* flags (0 after a message that came alone).
  std::uint32_t bundle_flags() const { return flags_; }

 private:
  MPI_Comm comm_;
  Bytes buf_[2];
  MPI_Request req_[2];
  Bytes big_;
  int cur_ = 0;
  int restart_ = -1;  // buffer handed out by the last poll, posted again at the next one
  BundleReader pieces_;
  std::uint32_t flags_ = 0;
};

// Rank 0's receiver of result messages: a ring of persistent receives from MPI_ANY_SOURCE, its
// size independent of the engine count (issue 12). MPI matches a source's messages to receives
// in the order they were posted, and the ring is posted and handled in one order, so each
// engine's results come out in the order it sent them. A poll tests only the oldest receive:
// O(1) per poll however many engines there are (the former two receives per engine cost a
// Testsome over 2 x engines requests on every poll, and 32 KiB of posted buffers per engine).
class ResultInbox {
 public:
  ResultInbox(MPI_Comm comm, int engines);
  ~ResultInbox();
  ResultInbox(const ResultInbox&) = delete;
  ResultInbox& operator=(const ResultInbox&) = delete;
  // Calls on_result(engine, bytes, size, first) for every result that arrived, in each engine's
  // order, each result of a bundle (bundle.hpp) on its own; first: the result begins an MPI
  // message (false for the later results of a bundle). Returns how many. After each message it
  // looks for another only while more() holds: with nothing left in flight (the result an
  // apply waits for), the waiting thread sees it before MPI is called again.
  template <class F, class More>
  int poll(F&& on_result, More&& more);
  // Receives in the ring: two per engine up to kMaxSlots (a burst beyond that waits in MPI's
  // unexpected queue, costing one copy, and is received in order all the same).
  static constexpr int kMaxSlots = 64;
  int slots() const { return static_cast<int>(req_.size()); }
  // During on_result: whether p lies in the large message just handed out, whose buffer holds
  // little else, and that buffer, taken (the next large message goes into a new one). Lets the
  // hub keep a large result without copying it (result_store.hpp, adopt).
  bool holds_big(const char* p) const {
    return p >= big_.data() && p < big_.data() + big_.size() && big_.capacity() <= big_.size() * 5 / 4;
  }
  Bytes take_big() { return std::exchange(big_, Bytes()); }

 private:
  MPI_Comm comm_;
  std::vector<Bytes> buf_;
  std::vector<MPI_Request> req_;
  std::size_t head_ = 0;  // the oldest posted receive
  int restart_ = -1;      // the receive whose message the last poll handed out, not yet posted
  Bytes big_;

  void restart() {
    if (restart_ < 0) return;
    int r = MPI_Start(&req_[static_cast<std::size_t>(std::exchange(restart_, -1))]);
    if (r != MPI_SUCCESS) throw MpiError("MPI_Start", r);
  }
};

std::span<const char> receive_big(MPI_Comm comm, int source, int big_tag, std::span<const char> env,
                                   Bytes& into);

template <class F, class More>
int ResultInbox::poll(F&& on_result, More&& more) {
  int count = 0;
  for (;;) {
    restart();
    int flag = 0;
    MPI_Status st;
    int rc = 0;
    {
      NoIdleYield quiet;  // rank 0's loops have their own back-off
      rc = MPI_Test(&req_[head_], &flag, &st);
    }
    if (rc != MPI_SUCCESS) throw MpiError("MPI_Test", rc);
    if (!flag) return count;
    MPIPLY_TRACE(result_arrived);
    int n = 0;
    rc = MPI_Get_count(&st, MPI_BYTE, &n);
    if (rc != MPI_SUCCESS) throw MpiError("MPI_Get_count", rc);
    std::span<const char> got(buf_[head_].data(), static_cast<std::size_t>(n));
    std::span<const char> msg = receive_big(comm_, st.MPI_SOURCE, kTagBigResult, got, big_);
    int engine = st.MPI_SOURCE - 1;
    // This receive is posted again (then the newest: the ring keeps its posting order) at the
    // next look, also if on_result throws; until then its buffer holds msg. Not now: that would
    // put an MPI call between a result's arrival and its waiting thread (an apply's round trip).
    restart_ = static_cast<int>(head_);
    head_ = (head_ + 1) % req_.size();
    if (!is_bundle(msg)) {
      on_result(engine, msg.data(), msg.size(), true);
      ++count;
    } else {
      // The engine's results sent together: each handed on as if it had come alone.
      BundleReader pieces(msg);
      std::span<const char> piece;
      for (bool first = true; pieces.left() > 0 && pieces.next(piece); first = false) {
        on_result(engine, piece.data(), piece.size(), first);
        ++count;
      }
    }
    MPIPLY_TRACE(result_handled);
    if (!more()) return count;
  }
}

}  // namespace mpiply::detail
