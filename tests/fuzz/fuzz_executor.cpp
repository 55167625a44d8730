// Fuzz target: an engine's task decoder. The input is a flags byte and then up to eight task
// messages (each a u32 length and its bytes), run in turn on one fresh Engine through
// execute_task, exactly as an engine rank runs what it receives, so a push can be followed by a
// call or pull that reads what it stored. Flags bit 0: the push segments that a message asks for
// arrive as garbage (otherwise none arrives and every fetch fails).
//
// What must hold for every input: execute_task returns (no crash, no exception, no sanitizer
// report), and answers each message that is not a stop with a result that rank 0's check_result
// accepts for the msg id and item count the engine put in its header: the task's own msg id and
// item count when the header was readable and plausible, one error item otherwise.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/detail/wire.hpp>
#include <mpiply/engine.hpp>

#include "executor/executor.hpp"
#include "fuzz_input.hpp"
#include "wire/result_codec.hpp"

namespace {

namespace d = mpiply::detail;

class FuzzSegments : public d::SegmentFetcher {
 public:
  explicit FuzzSegments(bool garbage) : garbage_(garbage) {}
  void fetch(char* dst, std::size_t n) override {
    // The real fetcher fails a segment that does not arrive whole; a fuzzer has no reason to fill
    // gigabytes.
    if (!garbage_ || n > (std::size_t(1) << 16))
      throw mpiply::ValueDecodeError("fuzz: the segment did not arrive");
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<char>(i * 131 + 7);
  }

 private:
  bool garbage_;
};

void check_answer(std::string_view msg, const d::Bytes& out) {
  d::ResultHeader rh{};
  FUZZ_CHECK(out.size() >= sizeof rh);
  std::memcpy(&rh, out.data(), sizeof rh);
  // Rank 0 must accept the answer as well-formed for the msg id and count it claims ...
  d::ResultHeader checked{};
  FUZZ_CHECK(d::check_result(out.data(), out.size(), rh.msg_id, rh.nitems, checked).empty());
  if (mpiply_fuzz::verbose()) {
    d::Reader r(out.data() + sizeof rh, out.size() - sizeof rh);
    for (std::uint32_t i = 0; i < rh.nitems; ++i) {
      auto status = r.u8();
      d::Reader body = r.sub(r.u32());
      if (status == 0) {
        std::fprintf(stderr, "  msg %llu item %u: ok, %zu bytes\n",
                     static_cast<unsigned long long>(rh.msg_id), i, body.remaining());
      } else {
        auto e = d::read_error_item(body);
        std::fprintf(stderr, "  msg %llu item %u: %.*s: %.*s\n",
                     static_cast<unsigned long long>(rh.msg_id), i, int(e.ename.size()),
                     e.ename.data(), int(e.evalue.size()), e.evalue.data());
      }
    }
  }
  if (msg.size() < sizeof(d::TaskHeader)) {
    FUZZ_CHECK(rh.msg_id == 0 && rh.nitems == 1);
    return;
  }
  // ... and those are the task's own, so the answer fails (or fills) exactly that task.
  d::TaskHeader th;
  std::memcpy(&th, msg.data(), sizeof th);
  FUZZ_CHECK(rh.msg_id == th.msg_id);
  std::size_t body = msg.size() - sizeof th;
  bool plausible_call = th.kind == d::Kind::call && th.nitems <= body / 4;
  FUZZ_CHECK(rh.nitems == (plausible_call ? th.nitems : 1u));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mpiply_fuzz::InputCursor in(data, size);
  FuzzSegments segs((in.byte() & 1) != 0);
  mpiply::Engine eng(3, 4, "fuzzhost");
  d::Bytes out;
  for (int i = 0; i < 8 && !in.done(); ++i) {
    std::string_view msg = in.piece();
    // A copy of exactly the message's bytes, so that ASan sees any read past its end.
    std::vector<char> copy(msg.begin(), msg.end());
    d::ExecResult res = d::execute_task(eng, copy.data(), copy.size(), segs, out, 0);
    if (res.stop) continue;
    check_answer(msg, out);
  }
  return 0;
}
