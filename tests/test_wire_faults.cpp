// Malformed messages fail their task, never the job. On an engine, execute_task answers any task
// message it cannot read with error items for that msg id (checked here directly, no MPI). On
// rank 0, a result that does not fit its task (wrong item count, truncated, wrong msg id, bad
// error kind, a payload it did not ask for) fails that task's items with MessageDecodeError;
// checked with fake engines that answer real tasks with doctored results over the real
// transport.
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

#include "client_core.hpp"
#include "client_factory.hpp"
#include "executor.hpp"
#include "result_codec.hpp"
#include "transport.hpp"

namespace {

namespace d = mpiply::detail;

int wire_twice(int x) { return 2 * x; }

// Segments from a list of buffers; a fetch of a size that does not match throws.
class ListSegments : public d::SegmentFetcher {
 public:
  explicit ListSegments(std::vector<std::string> segs) : segs_(std::move(segs)) {}
  void fetch(char* dst, std::size_t n) override {
    if (i_ >= segs_.size() || segs_[i_].size() != n)
      throw mpiply::DecodeError("test: segment of the wrong size");
    std::memcpy(dst, segs_[i_++].data(), n);
  }

 private:
  std::vector<std::string> segs_;
  std::size_t i_ = 0;
};

// A call message for wire_twice carrying `args` as its items, with header count `claimed`.
d::Bytes call_message(const std::vector<int>& args, std::uint32_t claimed, std::uint64_t msg_id) {
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
std::vector<Item> read_result(const d::Bytes& out, std::uint64_t msg, std::uint32_t nitems,
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

void add_push_entry(d::Writer& w, const std::string& name, const std::string& bytes,
                    std::uint64_t segment_len = 0) {
  w.str(name);
  w.str(mpiply::detail::type_tag<std::string>());
  w.u8(segment_len ? 1 : 0);
  w.u64(bytes.size());
  w.raw(bytes.data(), bytes.size());
  if (segment_len) w.u64(segment_len);
}

}  // namespace

MPIPLY_REGISTER(wire_twice);

TEST_CASE("executor: a well-formed chunk answers every item", "[wire][executor]") {
  Exec x;
  REQUIRE_NOTHROW(x.run(call_message({1, 2, 3}, 3, 77)));
  auto items = read_result(x.out, 77, 3);
  CHECK(items[0].value == 2);
  CHECK(items[1].value == 4);
  CHECK(items[2].value == 6);
}

TEST_CASE("executor: a message shorter than its header gets an error result", "[wire][executor]") {
  Exec x;
  d::Bytes tiny;
  tiny.append("abc", 3);
  REQUIRE_NOTHROW(x.run(tiny));
  auto items = read_result(x.out, 0, 1);
  CHECK_FALSE(items[0].ok);
  CHECK(items[0].kind == mpiply::ErrorKind::decode);
  CHECK_THAT(items[0].evalue, Catch::Contains("shorter than a task header"));
}

TEST_CASE("executor: an unknown task kind fails that msg id", "[wire][executor]") {
  Exec x;
  auto msg = call_message({1}, 1, 12);
  msg.data()[offsetof(d::TaskHeader, kind)] = 99;
  REQUIRE_NOTHROW(x.run(msg));
  auto items = read_result(x.out, 12, 1);
  CHECK(items[0].kind == mpiply::ErrorKind::decode);
  CHECK_THAT(items[0].evalue, Catch::Contains("unknown task kind 99"));
}

TEST_CASE("executor: a chunk claiming more items than it holds fails the missing ones",
          "[wire][executor]") {
  Exec x;
  // Four items claimed, two present: 0 and 1 run, 2 cannot be read, 3 is not attempted.
  REQUIRE_NOTHROW(x.run(call_message({5, 6}, 4, 40)));
  auto items = read_result(x.out, 40, 4);
  CHECK(items[0].value == 10);
  CHECK(items[1].value == 12);
  CHECK_FALSE(items[2].ok);
  CHECK(items[2].kind == mpiply::ErrorKind::decode);
  CHECK_THAT(items[2].evalue, Catch::Contains("item 2 could not be read"));
  CHECK_FALSE(items[3].ok);
  CHECK_THAT(items[3].evalue, Catch::Contains("item 3 of the chunk was not run"));
}

TEST_CASE("executor: an impossible item count gets one error item", "[wire][executor]") {
  Exec x;
  REQUIRE_NOTHROW(x.run(call_message({5}, 1'000'000'000u, 41)));
  auto items = read_result(x.out, 41, 1);
  CHECK(items[0].kind == mpiply::ErrorKind::decode);
  CHECK_THAT(items[0].evalue, Catch::Contains("claims 1000000000 calls"));
}

TEST_CASE("executor: an item whose arguments are cut short fails alone", "[wire][executor]") {
  Exec x;
  // Item 0 holds a tag and one byte of its four-byte int; item 1 is intact.
  d::Bytes b;
  d::Writer w(b);
  d::write_header(w, d::Kind::call, 2, d::entry_of(&wire_twice).id);
  w.patch(offsetof(d::TaskHeader, msg_id), std::uint64_t(42));
  w.u32(2);
  w.u8(0);  // ArgTag::value
  w.u8(7);  // one byte of a four-byte int
  d::encode_call<decltype(&wire_twice)>(w, 21);
  REQUIRE_NOTHROW(x.run(b));
  auto items = read_result(x.out, 42, 2);
  CHECK_FALSE(items[0].ok);
  CHECK(items[0].kind == mpiply::ErrorKind::decode);
  CHECK(items[1].ok);
  CHECK(items[1].value == 42);
}

TEST_CASE("executor: a push stores the entries it can and names the one that failed",
          "[wire][executor][push]") {
  Exec x;
  d::Bytes b;
  d::Writer w(b);
  d::write_header(w, d::Kind::push, 3, 0);
  w.patch(offsetof(d::TaskHeader, msg_id), std::uint64_t(50));
  std::string a = "alpha", c = "gamma";
  add_push_entry(w, "a", std::string("\x05\0\0\0\0\0\0\0", 8) + a);
  add_push_entry(w, "b", "", 16);  // its segment will not arrive whole
  add_push_entry(w, "c", std::string("\x05\0\0\0\0\0\0\0", 8) + c);
  ListSegments segs({"short"});
  REQUIRE_NOTHROW(x.run(b, segs));
  auto items = read_result(x.out, 50, 1, false);
  REQUIRE_FALSE(items[0].ok);
  CHECK_THAT(items[0].evalue, Catch::Contains("2 of 3 entries stored"));
  CHECK_THAT(items[0].evalue, Catch::Contains("entry 1 ('b')"));
  CHECK(x.eng.contains("a"));
  CHECK_FALSE(x.eng.contains("b"));
  CHECK(x.eng.contains("c"));
  CHECK(x.eng.get<std::string>("c") == "gamma");
}

TEST_CASE("executor: a push entry that cannot be read stops the push there",
          "[wire][executor][push]") {
  Exec x;
  d::Bytes b;
  d::Writer w(b);
  d::write_header(w, d::Kind::push, 2, 0);
  w.patch(offsetof(d::TaskHeader, msg_id), std::uint64_t(51));
  add_push_entry(w, "a", std::string("\x01\0\0\0\0\0\0\0x", 9));
  w.str("b");
  w.u64(1'000'000);  // a type tag longer than the message
  REQUIRE_NOTHROW(x.run(b));
  auto items = read_result(x.out, 51, 1, false);
  REQUIRE_FALSE(items[0].ok);
  CHECK(items[0].kind == mpiply::ErrorKind::decode);
  CHECK_THAT(items[0].evalue, Catch::Contains("1 of 2 entries stored"));
  CHECK_THAT(items[0].evalue, Catch::Contains("entry 1 could not be read"));
  CHECK(x.eng.contains("a"));
}

TEST_CASE("executor: a truncated pull fails with an error item", "[wire][executor]") {
  Exec x;
  d::Bytes b;
  d::Writer w(b);
  d::write_header(w, d::Kind::pull, 1, 0);
  w.patch(offsetof(d::TaskHeader, msg_id), std::uint64_t(52));
  w.u64(999);  // a name longer than the message
  REQUIRE_NOTHROW(x.run(b));
  auto items = read_result(x.out, 52, 1, false);
  CHECK(items[0].kind == mpiply::ErrorKind::decode);
}

namespace {

// The doctored answers the fake engine gives, in task order, and what rank 0 must make of them.
enum class Doctor { none, extra_item, truncate, wrong_msg, tiny, bad_kind, one_of_three, payload };

void doctor(d::Bytes& out, Doctor how) {
  d::ResultHeader h;
  std::memcpy(&h, out.data(), sizeof h);
  switch (how) {
    case Doctor::none:
      break;
    case Doctor::extra_item: {  // a second copy of the item, and a count to match
      d::Bytes copy(out);
      out.append(copy.data() + sizeof h, copy.size() - sizeof h);
      h.nitems += 1;
      std::memcpy(out.data(), &h, sizeof h);
      break;
    }
    case Doctor::truncate:
      out.resize(out.size() - 3);
      break;
    case Doctor::wrong_msg:
      h.msg_id += 1000;
      std::memcpy(out.data(), &h, sizeof h);
      break;
    case Doctor::tiny:
      out.resize(4);
      break;
    case Doctor::bad_kind: {
      h.nitems = 1;
      std::memcpy(out.data(), &h, sizeof h);
      out.resize(sizeof h);
      d::Writer w(out);
      w.u8(1);  // ItemStatus::error
      w.u32(1 + 8 + 8);
      w.u8(99);
      w.str("");
      w.str("");
      break;
    }
    case Doctor::payload:  // announces a pull_into payload that never follows
      h.payload_bytes = std::uint64_t(1) << 20;
      std::memcpy(out.data(), &h, sizeof h);
      break;
    case Doctor::one_of_three: {  // keeps only the first item of a three-item chunk
      d::Reader r(out.data() + sizeof h, out.size() - sizeof h);
      r.u8();
      std::size_t len = r.u32();
      out.resize(sizeof h + 5 + len);
      h.nitems = 1;
      std::memcpy(out.data(), &h, sizeof h);
      break;
    }
  }
}

const std::vector<Doctor> kScript = {Doctor::none,      Doctor::extra_item, Doctor::truncate,
                                     Doctor::wrong_msg, Doctor::tiny,       Doctor::bad_kind,
                                     Doctor::none,      Doctor::one_of_three, Doctor::none,
                                     Doctor::payload};

// An engine rank that runs each task for real, then doctors its result as the script says.
void fake_engine(MPI_Comm comm, int rank) {
  mpiply::Engine eng(rank - 1, rank, "fake");
  d::Bytes in(d::kTaskInboxBytes), out;
  std::size_t task = 0;
  for (;;) {
    MPI_Status st;
    MPI_Recv(in.data(), static_cast<int>(in.size()), MPI_BYTE, 0, d::kTagTask, comm, &st);
    int n = 0;
    MPI_Get_count(&st, MPI_BYTE, &n);
    ListSegments none({});
    auto res = d::execute_task(eng, in.data(), static_cast<std::size_t>(n), none, out, 0);
    if (res.stop) return;
    doctor(out, task < kScript.size() ? kScript[task] : Doctor::none);
    ++task;
    d::send_message(comm, 0, d::kTagResult, d::kTagBigResult, {out.data(), out.size()},
                    d::kResultInboxBytes);
  }
}

void check_decode_error(const mpiply::AsyncResult<int>& ar, const char* says) {
  try {
    ar.get(mpiply::Seconds(60));
    FAIL_CHECK("a doctored result was accepted");
  } catch (const mpiply::MessageDecodeError& e) {
    CHECK(e.kind() == mpiply::ErrorKind::decode);
    CHECK(e.engine_id() == 0);
    CHECK(e.msg_id() == ar.msg_ids().at(0));
    CHECK_THAT(std::string(e.what()), Catch::Contains(says));
    CHECK_THAT(std::string(e.what()), Catch::Contains("malformed result"));
  }
  CHECK(ar.metadata().at(0).status == mpiply::TaskStatus::error);
}

}  // namespace

TEST_CASE("rank 0: a malformed result fails its task's items, and the job goes on",
          "[wire][results]") {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size == 1) {
    // No engines to doctor results: with one rank the same bytes go through the check that
    // rank 0's result handling makes, and each is refused with its reason.
    Exec x;
    x.run(call_message({1, 2, 3}, 3, 9));
    const std::vector<std::pair<Doctor, const char*>> cases = {
        {Doctor::extra_item, "4 items for a task of 3"},
        {Doctor::truncate, "needed"},
        {Doctor::wrong_msg, "answers msg 1009 while msg 9"},
        {Doctor::tiny, "shorter than a result header"},
        {Doctor::bad_kind, "kind 99"},
        {Doctor::one_of_three, "1 items for a task of 3"}};
    for (auto [how, says] : cases) {
      d::Bytes out(x.out);
      doctor(out, how);
      d::ResultHeader h{};
      std::uint32_t want = how == Doctor::bad_kind ? 1 : 3;
      CHECK_THAT(d::check_result(out.data(), out.size(), 9, want, h), Catch::Contains(says));
    }
    return;
  }
  MPI_Comm comm;
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  if (rank != 0) {
    fake_engine(comm, rank);
  } else {
    std::vector<d::EngineInfo> engines;
    for (int r = 1; r < size; ++r) engines.push_back({r, "fake", 0});
    auto core = std::make_shared<d::ClientCore>(comm, engines, 4);
    mpiply::Client c = d::ClientFactory::make(core);
    auto e0 = c[0];
    CHECK(e0.apply(wire_twice, 1) == 2);
    check_decode_error(e0.apply_async(wire_twice, 2), "2 items for a task of 1");
    check_decode_error(e0.apply_async(wire_twice, 3), "needed");
    check_decode_error(e0.apply_async(wire_twice, 4), "while msg");
    check_decode_error(e0.apply_async(wire_twice, 5), "shorter than a result header");
    check_decode_error(e0.apply_async(wire_twice, 6), "kind 99");
    CHECK(e0.apply(wire_twice, 7) == 14);  // the engine and rank 0 carry on
    // A chunk of three whose result claims one item: all three items fail, each typed.
    auto amr = c[std::vector<int>{0}].map_async(wire_twice, std::vector<int>{1, 2, 3},
                                               {.chunksize = 3});
    try {
      amr.get(mpiply::Seconds(60));
      FAIL_CHECK("a doctored chunk was accepted");
    } catch (const mpiply::CompositeError& ce) {
      REQUIRE(ce.errors().size() == 3);
      for (const auto& item : ce.errors()) CHECK(item.error.kind() == mpiply::ErrorKind::decode);
      CHECK_THROWS_AS(ce.raise_exception(2), mpiply::MessageDecodeError);
    }
    CHECK(e0.apply(wire_twice, 8) == 16);
    // A payload announced for a task that asked for none: no receive is posted (it would wait
    // forever), the task fails.
    check_decode_error(e0.apply_async(wire_twice, 9), "1048576-byte payload");
    CHECK(e0.apply(wire_twice, 10) == 20);
    REQUIRE(core->shutdown(0, 60000));  // drained within a minute
  }
  MPI_Comm_free(&comm);
}
