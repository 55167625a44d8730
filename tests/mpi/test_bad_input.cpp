// Bad input that reaches an engine despite rank 0's checks (a corrupt or mismatched message),
// run through execute_task directly, as an engine rank runs what it receives: each fails its own
// task with an error that says what was wrong, and the engine keeps serving. The push cases are
// crashes the fuzzer found (tests/fuzz/regressions/executor), kept here as readable tests.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>

#include <mpiply/mpiply.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/type_name.hpp>
#include <mpiply/detail/wire.hpp>

#include "executor/executor.hpp"
#include "wire/result_codec.hpp"

namespace {

namespace d = mpiply::detail;

int bad_input_twice(int x) { return 2 * x; }

struct NoSegments : d::SegmentFetcher {
  void fetch(char*, std::size_t) override { throw mpiply::ValueDecodeError("test: no segment"); }
};

// The items of a result the engine produced, after rank 0's check (which must accept it).
std::vector<std::pair<bool, std::string>> answer(const d::Bytes& out, std::uint64_t msg,
                                                 std::uint32_t n) {
  d::ResultHeader h{};
  std::string problem = d::check_result(out.data(), out.size(), msg, n, h);
  INFO(problem);
  REQUIRE(problem.empty());
  d::Reader r(out.data() + sizeof h, out.size() - sizeof h);
  std::vector<std::pair<bool, std::string>> items;
  for (std::uint32_t i = 0; i < n; ++i) {
    bool ok = r.u8() == 0;
    d::Reader body = r.sub(r.u32());
    if (ok) {
      items.emplace_back(true, std::to_string(d::decode<int>(body)));
    } else {
      auto e = d::read_error_item(body);
      items.emplace_back(false, std::string(e.ename) + ": " + std::string(e.evalue));
    }
  }
  return items;
}

d::Bytes call_message(std::uint64_t fn_id, std::uint64_t msg, std::initializer_list<int> args) {
  d::Bytes b;
  d::Writer w(b);
  d::write_header(w, d::Kind::call, static_cast<std::uint32_t>(args.size()), fn_id);
  w.patch(offsetof(d::TaskHeader, msg_id), msg);
  for (int a : args) d::encode_call<decltype(&bad_input_twice)>(w, a);
  return b;
}

// A push of one int entry "w" whose value claims `segment_len` more bytes in a segment.
d::Bytes push_message(std::uint64_t msg, std::uint64_t prefix_len, std::uint64_t segment_len) {
  d::Bytes b;
  d::Writer w(b);
  d::write_header(w, d::Kind::push, 1, 0);
  w.patch(offsetof(d::TaskHeader, msg_id), msg);
  w.str("w");
  w.str(d::type_tag<int>());
  w.u8(1);
  w.u64(prefix_len);
  for (std::uint64_t i = 0; i < prefix_len; ++i) w.u8(0xab);
  w.u64(segment_len);
  return b;
}

}  // namespace

MPIPLY_REGISTER(bad_input_twice);

TEST_CASE("a task naming a function the engine does not know fails each item; the engine "
          "goes on",
          "[bad-input]") {
  mpiply::Engine eng(3, 4, "testhost");
  NoSegments none;
  d::Bytes out;
  auto msg = call_message(d::hash_name("never_registered"), 60, {1, 2});
  REQUIRE_FALSE(d::execute_task(eng, msg.data(), msg.size(), none, out, 0).stop);
  auto items = answer(out, 60, 2);
  for (const auto& [ok, text] : items) {
    CHECK_FALSE(ok);
    CHECK_THAT(text, Catch::StartsWith("mpiply::UsageError: engine 3 has no function with id"));
    CHECK_THAT(text, Catch::Contains("every rank must register the same functions"));
  }
  auto good = call_message(d::entry_of(&bad_input_twice).id, 61, {21});
  d::execute_task(eng, good.data(), good.size(), none, out, 0);
  CHECK(answer(out, 61, 1).at(0) == std::make_pair(true, std::string("42")));
}

TEST_CASE("a push whose segment length wraps the value's size fails that push only",
          "[bad-input][push]") {
  mpiply::Engine eng(3, 4, "testhost");
  NoSegments none;
  d::Bytes out;
  // 100 prefix bytes + (2^64 - 64) segment bytes wrapped to 36 bytes before the fix, and the
  // prefix was copied past the end of that buffer.
  auto msg = push_message(70, 100, ~std::uint64_t(0) - 63);
  d::execute_task(eng, msg.data(), msg.size(), none, out, 0);
  auto items = answer(out, 70, 1);
  CHECK_FALSE(items[0].first);
  CHECK_THAT(items[0].second, Catch::Contains("claims a 18446744073709551552-byte segment"));
  CHECK_FALSE(eng.contains("w"));
}

TEST_CASE("a push of a value too large to allocate fails that push only", "[bad-input][push]") {
  mpiply::Engine eng(3, 4, "testhost");
  NoSegments none;
  d::Bytes out;
  // 8 + (2^64 - 9) bytes: rounding that up to whole huge pages wrapped to 0 before the fix.
  auto msg = push_message(71, 8, ~std::uint64_t(0) - 8);
  d::execute_task(eng, msg.data(), msg.size(), none, out, 0);
  auto items = answer(out, 71, 1);
  CHECK_FALSE(items[0].first);
  CHECK_THAT(items[0].second, Catch::Contains("0 of 1 entries stored"));
  CHECK_THAT(items[0].second, Catch::Contains("bad_alloc"));
  CHECK_FALSE(eng.contains("w"));
  auto ok = call_message(d::entry_of(&bad_input_twice).id, 72, {5});
  d::execute_task(eng, ok.data(), ok.size(), none, out, 0);
  CHECK(answer(out, 72, 1).at(0) == std::make_pair(true, std::string("10")));
}
