#pragma once
// Shared by the malformed-message tests (test_executor_faults.cpp, test_wire_faults.cpp): a
// registered test function (include this header once per test binary), task messages built by
// hand, a reader for result messages as rank 0 checks them, and an engine to execute them on.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <mpi.h>

#include <mpiply/mpiply.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/wire.hpp>

#include "client/client_core.hpp"
#include "run/client_factory.hpp"
#include "executor/executor.hpp"
#include "wire/result_codec.hpp"
#include "wire/transport.hpp"

// The function every test message calls.
inline int wire_twice(int x) { return 2 * x; }
MPIPLY_REGISTER(wire_twice);

namespace wire_test {

namespace d = mpiply::detail;


// Segments from a list of buffers; a fetch of a size that does not match throws.
class ListSegments : public d::SegmentFetcher {
 public:
  explicit ListSegments(std::vector<std::string> segs) : segs_(std::move(segs)) {}
  void fetch(char* dst, std::size_t n) override {
    if (i_ >= segs_.size() || segs_[i_].size() != n)
      throw mpiply::ValueDecodeError("test: segment of the wrong size");
    std::memcpy(dst, segs_[i_++].data(), n);
  }

 private:
  std::vector<std::string> segs_;
  std::size_t i_ = 0;
};

// A call message for wire_twice carrying `args` as its items, with header count `claimed`.
inline d::Bytes call_message(const std::vector<int>& args, std::uint32_t claimed, std::uint64_t msg_id) {
  d::Bytes b;
  d::Writer w(b);
  d::write_header(w, d::Kind::call, claimed, d::entry_of(&wire_twice).id);
  for (int a : args) d::encode_call<decltype(&wire_twice)>(w, a);
  w.patch(offsetof(d::TaskHeader, msg_id), msg_id);
  return b;
}

struct Item {
  bool ok = false;
  int value = 0;
  mpiply::ErrorKind kind = mpiply::ErrorKind::raised;
  std::string ename, evalue;
};

// Checks a result message as rank 0 does, then reads its items.
inline std::vector<Item> read_result(const d::Bytes& out, std::uint64_t msg, std::uint32_t nitems,
                              bool int_values = true) {
  d::ResultHeader h{};
  std::string problem = d::check_result(out.data(), out.size(), msg, nitems, h);
  INFO(problem);
  REQUIRE(problem.empty());
  d::Reader r(out.data() + sizeof h, out.size() - sizeof h);
  std::vector<Item> items;
  for (std::uint32_t i = 0; i < nitems; ++i) {
    auto status = static_cast<d::ItemStatus>(r.u8());
    d::Reader body = r.sub(r.u32());
    Item it;
    it.ok = status == d::ItemStatus::ok;
    if (it.ok) {
      if (int_values) it.value = d::decode<int>(body);
    } else {
      auto e = d::read_error_item(body);
      it.kind = e.kind;
      it.ename = e.ename;
      it.evalue = e.evalue;
    }
    items.push_back(it);
  }
  return items;
}

struct Exec {
  mpiply::Engine eng{3, 4, "testhost"};
  d::Bytes out;
  d::ExecResult run(const d::Bytes& msg, d::SegmentFetcher& segs) {
    return d::execute_task(eng, msg.data(), msg.size(), segs, out, 0);
  }
  d::ExecResult run(const d::Bytes& msg) {
    ListSegments none({});
    return run(msg, none);
  }
};

inline void add_push_entry(d::Writer& w, const std::string& name, const std::string& bytes,
                    std::uint64_t segment_len = 0) {
  w.str(name);
  w.str(mpiply::detail::type_tag<std::string>());
  w.u8(segment_len ? 1 : 0);
  w.u64(bytes.size());
  w.raw(bytes.data(), bytes.size());
  if (segment_len) w.u64(segment_len);
}

}  // namespace wire_test
