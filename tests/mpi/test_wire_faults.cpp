// Malformed results fail their task, never the job: on rank 0, a result that does not fit its
// task (wrong item count, truncated, wrong msg id, bad error kind, a payload it did not ask for)
// fails that task's items with MessageDecodeError; checked with fake engines that answer real
// tasks with doctored results over the real transport. Malformed task messages on an engine:
// test_executor_faults.cpp.
#include "wire_faults_support.hpp"

using namespace wire_test;

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
    for (int r = 1; r < size; ++r) engines.push_back({r, "fake", 0, {}});
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
    int code = 0;
    REQUIRE(core->shutdown(code, 60000));  // drained within a minute
  }
  MPI_Comm_free(&comm);
}
