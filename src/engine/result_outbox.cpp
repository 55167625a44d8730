// Results sent at once or held for the rest of their bundle (result_outbox.hpp).
#include "engine/result_outbox.hpp"

#include <cstring>

#include <mpiply/detail/wire.hpp>

#include "wire/transport.hpp"

namespace mpiply::detail {

namespace {
// A larger result goes alone: the copy into the bundle would cost more than a message.
constexpr std::size_t kHeldResultMaxBytes = 1024;

std::int64_t completed_ns(const Bytes& res) {
  ResultHeader h;
  std::memcpy(&h, res.data(), sizeof h);  // callers pass whole result messages
  return h.completed_ns;
}
}  // namespace

bool may_hold_result(const char* task, std::size_t n, std::uint32_t bundle_flags,
                     std::uint32_t pieces_left) {
  if ((bundle_flags & kBundleHoldResults) == 0 || pieces_left == 0 || n < sizeof(TaskHeader))
    return false;
  TaskHeader h;
  std::memcpy(&h, task, sizeof h);
  return h.kind == Kind::call && h.run == 0;
}

void ResultOutbox::send(const Bytes& res, bool hold) {
  bool fits = res.size() >= sizeof(ResultHeader) && res.size() <= kHeldResultMaxBytes &&
              writer_.count() < kBundleMaxPieces &&
              (writer_.count() == 0 ? BundleWriter::kHeaderBytes : bundle_.size()) +
                      BundleWriter::piece_bytes(res.size()) <=
                  kResultInboxBytes;
  if (!fits) {
    flush();
    send_message(comm_, 0, kTagResult, kTagBigResult, {res.data(), res.size()},
                 kResultInboxBytes);
    return;
  }
  if (writer_.count() == 0 && !hold) {
    send_message(comm_, 0, kTagResult, kTagBigResult, {res.data(), res.size()},
                 kResultInboxBytes);
    return;
  }
  std::int64_t completed = completed_ns(res);
  if (writer_.count() == 0) {
    writer_.begin(0);
    first_completed_ = completed;
  }
  writer_.add({res.data(), res.size()});
  if (!hold || completed - first_completed_ >= kHoldResultsNs) flush();
}

void ResultOutbox::flush() {
  if (writer_.count() == 0) return;
  std::span<const char> msg(bundle_.data(), bundle_.size());
  if (writer_.count() == 1) {  // nothing joined it: it goes as it is
    BundleReader one(msg);
    one.next(msg);
  }
  send_message(comm_, 0, kTagResult, kTagBigResult, msg, kResultInboxBytes);
  writer_.reset();
}

}  // namespace mpiply::detail
