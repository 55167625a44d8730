// The ring between an engine and its worker process (src/isolation/shm_ring.hpp), both ends in
// one process, the worker's end on a thread of its own: what the engine takes back before the
// worker could look is never run, and every other request runs once, in order.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "isolation/ring_engine_end.hpp"
#include "isolation/ring_worker_end.hpp"
#include "isolation/shm_ring.hpp"

using mpiply::detail::RingEngineEnd;
using mpiply::detail::RingWorkerEnd;
using mpiply::detail::ShmRing;

namespace {

std::string request(std::uint32_t i) { return "request " + std::to_string(i); }

// The worker's loop: runs (records) each request it is handed and answers it with its text,
// until `stop`.
void serve(ShmRing& ring, std::vector<std::string>& ran, const std::atomic<bool>& stop) {
  RingWorkerEnd w(ring);
  while (!stop.load()) {
    std::span<const char> msg;
    if (!w.wait_request(10, msg)) continue;
    ran.emplace_back(msg.data(), msg.size());
    std::memcpy(w.reply_buffer(), ran.back().data(), ran.back().size());
    w.post_reply(ran.back().size(), 0);
  }
}

}  // namespace

TEST_CASE("a request posted taken back is answered cancelled and never handed to the worker",
          "[isolation][ring]") {
  ShmRing ring(4);
  RingEngineEnd eng(ring);
  RingWorkerEnd worker(ring);
  std::string a = request(1), b = request(2), c = request(3);
  eng.post({a.data(), a.size()});
  eng.post({b.data(), b.size()}, /*taken_back=*/true);
  eng.post({c.data(), c.size()});
  std::span<const char> msg;
  REQUIRE(worker.wait_request(0, msg));
  CHECK(std::string(msg.data(), msg.size()) == a);
  worker.post_reply(0, 0);
  // The taken-back request is answered on the way to the next one.
  REQUIRE(worker.wait_request(0, msg));
  CHECK(std::string(msg.data(), msg.size()) == c);
  worker.post_reply(0, 0);
  CHECK_FALSE(worker.wait_request(0, msg));
  std::uint32_t flags = 0;
  for (std::uint32_t want : {0u, std::uint32_t(ShmRing::Slot::kCancelled), 0u}) {
    REQUIRE(eng.has_reply());
    eng.take_reply(flags);
    CHECK(flags == want);
  }
  CHECK(eng.in_flight() == 0);
}

// The engine re-posts the tasks it took back when their worker was replaced (a time limit, a
// crash) to a fresh worker that is already waiting. Posted and then cancelled, such a task could
// be taken by the worker in between and run although it was aborted.
TEST_CASE("a worker that looks at once never runs a request posted taken back",
          "[isolation][ring]") {
  constexpr std::uint32_t kRequests = 20000;
  ShmRing ring(16);
  RingEngineEnd eng(ring);
  std::vector<std::string> ran;
  std::atomic<bool> stop{false};
  std::thread worker(serve, std::ref(ring), std::ref(ran), std::cref(stop));
  std::vector<std::string> want_run;
  std::uint32_t posted = 0, answered = 0, cancelled = 0;
  while (answered < kRequests) {
    while (posted < kRequests && eng.has_room()) {
      ++posted;
      std::string r = request(posted);
      bool back = posted % 3 != 0;  // two in three taken back
      if (!back) want_run.push_back(r);
      eng.post({r.data(), r.size()}, back);
    }
    while (eng.has_reply()) {
      std::uint32_t flags = 0;
      std::span<const char> reply = eng.take_reply(flags);
      ++answered;
      bool back = answered % 3 != 0;
      INFO("request " << answered);
      CHECK((flags & ShmRing::Slot::kCancelled) == (back ? ShmRing::Slot::kCancelled : 0u));
      if (back)
        ++cancelled;
      else
        CHECK(std::string(reply.data(), reply.size()) == request(answered));
    }
  }
  stop = true;
  worker.join();
  CHECK(cancelled == kRequests - kRequests / 3);
  CHECK(ran == want_run);
}
