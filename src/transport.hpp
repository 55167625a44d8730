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
#include <span>
#include <vector>

#include <mpi.h>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/errors.hpp>

namespace mpiply::detail {

// Posted buffer sizes. The sender must know the receiver's: they are constants of the protocol.
inline constexpr std::size_t kTaskInboxBytes = std::size_t(64) << 10;   // per engine, x2
inline constexpr std::size_t kResultInboxBytes = std::size_t(16) << 10;  // per engine on rank 0, x2
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

// An engine's receiver of task messages from rank 0.
class TaskInbox {
 public:
  explicit TaskInbox(MPI_Comm comm);
  ~TaskInbox();
  TaskInbox(const TaskInbox&) = delete;
  TaskInbox& operator=(const TaskInbox&) = delete;
  // The next message if one has arrived; the bytes stay valid until the next poll.
  bool poll(std::span<const char>& msg);

 private:
  MPI_Comm comm_;
  Bytes buf_[2];
  MPI_Request req_[2];
  Bytes big_;
  int cur_ = 0;
  int restart_ = -1;  // buffer handed out by the last poll, posted again at the next one
};

// Rank 0's receiver of result messages, two posted receives per engine.
class ResultInbox {
 public:
  ResultInbox(MPI_Comm comm, int engines);
  ~ResultInbox();
  ResultInbox(const ResultInbox&) = delete;
  ResultInbox& operator=(const ResultInbox&) = delete;
  // Calls on_result(engine, bytes, size) for every result that arrived, in each engine's order.
  // Returns how many.
  template <class F>
  int poll(F&& on_result);

 private:
  std::span<const char> take(int engine, int slot);
  MPI_Comm comm_;
  int engines_;
  std::vector<Bytes> buf_;
  std::vector<MPI_Request> req_;
  std::vector<int> cur_;
  std::vector<unsigned char> done_;
  std::vector<int> size_;  // bytes received into each buffer, from its completion status
  std::vector<int> idx_;
  std::vector<MPI_Status> status_;
  Bytes big_;
};

std::span<const char> receive_big(MPI_Comm comm, int source, int big_tag, std::span<const char> env,
                                   Bytes& into);

template <class F>
int ResultInbox::poll(F&& on_result) {
  int count = 0;
  int out = 0;
  int rc = MPI_Testsome(static_cast<int>(req_.size()), req_.data(), &out, idx_.data(),
                        status_.data());
  if (rc != MPI_SUCCESS) throw MpiError("MPI_Testsome", rc);
  if (out == MPI_UNDEFINED || out == 0) return 0;
  for (int k = 0; k < out; ++k) {
    auto i = static_cast<std::size_t>(idx_[k]);
    done_[i] = 1;
    rc = MPI_Get_count(&status_[static_cast<std::size_t>(k)], MPI_BYTE, &size_[i]);
    if (rc != MPI_SUCCESS) throw MpiError("MPI_Get_count", rc);
  }
  for (int k = 0; k < out; ++k) {
    int e = idx_[k] / 2;
    // Results of one engine are handled in the order its two buffers were filled.
    while (done_[static_cast<std::size_t>(2 * e + cur_[e])]) {
      int slot = cur_[e];
      done_[static_cast<std::size_t>(2 * e + slot)] = 0;
      std::span<const char> msg = take(e, slot);
      on_result(e, msg.data(), msg.size());
      int src = 2 * e + slot;
      rc = MPI_Start(&req_[static_cast<std::size_t>(src)]);
      if (rc != MPI_SUCCESS) throw MpiError("MPI_Start", rc);
      cur_[e] ^= 1;
      ++count;
    }
  }
  return count;
}

}  // namespace mpiply::detail
