// Malformed task messages fail their task, never the engine: execute_task answers any task
// message it cannot read with error items for that msg id (checked here directly, no MPI).
// Malformed results on rank 0: test_wire_faults.cpp.
#include "wire_faults_support.hpp"

using namespace wire_test;

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
