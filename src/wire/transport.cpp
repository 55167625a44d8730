// Persistent double-buffered receives and the envelope protocol for large messages.
#include "wire/transport.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/wire.hpp>

#include "support/idle_yield.hpp"
#include "support/mpi_check.hpp"
#include "support/trace_points.hpp"
#include "runtime/settings.hpp"
#include "wire/result_codec.hpp"

namespace mpiply::detail {

namespace {
void cancel_and_free(MPI_Request& r) {
  if (r == MPI_REQUEST_NULL) return;
  // An active persistent receive is cancelled first; an inactive one can be freed at once.
  int flag = 0;
  MPI_Status st;
  MPI_Test(&r, &flag, &st);
  if (!flag) {
    MPI_Cancel(&r);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
  }
  MPI_Request_free(&r);
}

int message_size(const MPI_Status& st) {
  int n = 0;
  mpi_check(MPI_Get_count(&st, MPI_BYTE, &n), "MPI_Get_count");
  return n;
}
}  // namespace

// Read once per mpiply::run with the other settings (src/runtime/settings.cpp), which rejects bad values.
std::size_t max_message_bytes() { return static_cast<std::size_t>(settings().max_message_bytes); }

// A result over the message limit cannot travel: every item of the task becomes an error that
// says so, and the engine goes on serving.
void replace_with_too_large(Bytes& out) {
  Reader r(out.data(), out.size());
  auto h = r.pod<ResultHeader>();
  std::string why = fmt::format(
      "the result message is {} bytes, over the {}-byte limit of one MPI message; return it in "
      "parts, or keep it on the engine (this_engine().set) and pull pieces of it",
      out.size(), max_message_bytes());
  out.clear();
  Writer w(out);
  w.pod(h);
  for (std::uint32_t i = 0; i < h.nitems; ++i)
    write_error_item(w, ErrorKind::message_too_large,
                     error_type_name(ErrorKind::message_too_large), why);
}

void isend_message(MPI_Comm comm, int dest, int tag, int big_tag, std::span<const char> msg,
                   std::size_t inbox_bytes, Envelope& env, MPI_Request& req, MPI_Request& big_req) {
  if (msg.size() <= inbox_bytes) {
    mpi_check(MPI_Isend(msg.data(), static_cast<int>(msg.size()), MPI_BYTE, dest, tag, comm, &req),
              "MPI_Isend");
    MPIPLY_TRACE(task_sent);  // rank 0 sends tasks with this, engines their results below
    return;
  }
  // Callers check max_message_bytes() first and fail the task instead; this is the last guard.
  if (msg.size() > max_message_bytes())
    throw Error(fmt::format("internal: a {}-byte message reached the transport", msg.size()));
  env = {kEnvelopeMagic, msg.size()};
  mpi_check(MPI_Isend(&env, sizeof env, MPI_BYTE, dest, tag, comm, &req), "MPI_Isend");
  mpi_check(MPI_Isend(msg.data(), static_cast<int>(msg.size()), MPI_BYTE, dest, big_tag, comm,
                      &big_req),
            "MPI_Isend");
}

void send_message(MPI_Comm comm, int dest, int tag, int big_tag, std::span<const char> msg,
                  std::size_t inbox_bytes) {
  if (msg.size() <= inbox_bytes) {
    mpi_check(MPI_Send(msg.data(), static_cast<int>(msg.size()), MPI_BYTE, dest, tag, comm),
              "MPI_Send");
    MPIPLY_TRACE(result_sent);
    return;
  }
  if (msg.size() > max_message_bytes())
    throw Error(fmt::format("internal: a {}-byte message reached the transport", msg.size()));
  Envelope env{kEnvelopeMagic, msg.size()};
  mpi_check(MPI_Send(&env, sizeof env, MPI_BYTE, dest, tag, comm), "MPI_Send");
  mpi_check(MPI_Send(msg.data(), static_cast<int>(msg.size()), MPI_BYTE, dest, big_tag, comm),
            "MPI_Send");
}

std::span<const char> receive_big(MPI_Comm comm, int source, int big_tag,
                                   std::span<const char> env_bytes, Bytes& into) {
  if (env_bytes.size() != sizeof(Envelope)) return env_bytes;
  Envelope env;
  std::memcpy(&env, env_bytes.data(), sizeof env);
  if (env.magic != kEnvelopeMagic) return env_bytes;
  into.resize(env.size);
  mpi_check(MPI_Recv(into.data(), static_cast<int>(env.size), MPI_BYTE, source, big_tag, comm,
                     MPI_STATUS_IGNORE),
            "MPI_Recv");
  return {into.data(), into.size()};
}

TaskInbox::TaskInbox(MPI_Comm comm) : comm_(comm) {
  for (int i = 0; i < 2; ++i) {
    buf_[i].resize(kTaskInboxBytes);
    mpi_check(MPI_Recv_init(buf_[i].data(), static_cast<int>(kTaskInboxBytes), MPI_BYTE, 0,
                            kTagTask, comm_, &req_[i]),
              "MPI_Recv_init");
    mpi_check(MPI_Start(&req_[i]), "MPI_Start");
  }
}

TaskInbox::~TaskInbox() {
  for (auto& r : req_) cancel_and_free(r);
}

bool TaskInbox::poll(std::span<const char>& msg) {
  if (pieces_.left() > 0) return pieces_.next(msg);
  flags_ = 0;
  if (restart_ >= 0) {
    mpi_check(MPI_Start(&req_[restart_]), "MPI_Start");
    restart_ = -1;
  }
  int flag = 0;
  MPI_Status st;
  {
    NoIdleYield quiet;  // this loop has its own back-off
    mpi_check(MPI_Test(&req_[cur_], &flag, &st), "MPI_Test");
  }
  if (!flag) return false;
  MPIPLY_TRACE(task_arrived);
  std::span<const char> got(buf_[cur_].data(), static_cast<std::size_t>(message_size(st)));
  msg = receive_big(comm_, 0, kTagBigTask, got, big_);
  restart_ = cur_;
  cur_ ^= 1;
  if (is_bundle(msg)) {
    pieces_ = BundleReader(msg);
    flags_ = pieces_.flags();
    return pieces_.next(msg);
  }
  return true;
}

ResultInbox::ResultInbox(MPI_Comm comm, int engines)
    : comm_(comm),
      buf_(static_cast<std::size_t>(std::clamp(2 * engines, 2, kMaxSlots))),
      req_(buf_.size(), MPI_REQUEST_NULL) {
  for (std::size_t i = 0; i < req_.size(); ++i) {
    buf_[i].resize(kResultInboxBytes);
    mpi_check(MPI_Recv_init(buf_[i].data(), static_cast<int>(kResultInboxBytes), MPI_BYTE,
                            MPI_ANY_SOURCE, kTagResult, comm_, &req_[i]),
              "MPI_Recv_init");
    mpi_check(MPI_Start(&req_[i]), "MPI_Start");
  }
}

ResultInbox::~ResultInbox() {
  for (auto& r : req_) cancel_and_free(r);
}

}  // namespace mpiply::detail
