// Rank 0's ResultInbox (src/wire/transport.hpp) is a fixed ring of MPI_ANY_SOURCE receives, whatever
// the engine count. These tests drive it directly: every other rank sends a burst of results of
// mixed sizes (eager, rendezvous under the posted size, and a megabyte through the envelope
// path), far more than the ring holds, and rank 0 must hand each engine's results out in the
// order that engine sent them, intact, under the right engine id.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include <mpi.h>

#include <mpiply/detail/wire.hpp>

#include "support.hpp"
#include "wire/transport.hpp"

namespace {

using mpiply::detail::ResultInbox;
using mpiply_test::OwnComm;

// Message k of `rank`: a header (rank, k) then bytes that depend on both.
std::vector<char> make_message(int rank, int k) {
  static const std::size_t sizes[] = {16, 10 << 10, 40, (1 << 20) + 3, 200, 15 << 10};
  std::size_t n = sizes[static_cast<std::size_t>(k) % std::size(sizes)];
  std::vector<char> m(n);
  std::int32_t head[2] = {rank, k};
  std::memcpy(m.data(), head, sizeof head);
  for (std::size_t i = sizeof head; i < n; ++i) m[i] = static_cast<char>((i * 31 + k * 7 + rank) & 0x7f);
  return m;
}

}  // namespace

TEST_CASE("results come out of the ring in each engine's order, intact", "[transport][inbox]") {
  OwnComm own;
  MPI_Comm comm = own.comm;
  const int rank = own.rank, size = own.size;
  constexpr int kPerEngine = 300;  // far more than the ring's receives: most wait unexpected
  int engines = size - 1;

  if (rank == 0) {
    ResultInbox inbox(comm, engines);
    CHECK(inbox.slots() == std::max(2, 2 * engines));
    std::vector<int> next(static_cast<std::size_t>(engines), 0);
    int got = 0, bad = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    MPI_Barrier(comm);  // receives posted before any engine sends
    while (got < engines * kPerEngine && std::chrono::steady_clock::now() < deadline) {
      got += inbox.poll([&](int e, const char* p, std::size_t len, bool) {
        REQUIRE(e >= 0);
        REQUIRE(e < engines);
        int k = next[static_cast<std::size_t>(e)]++;
        auto want = make_message(e + 1, k);
        if (len != want.size() || std::memcmp(p, want.data(), len) != 0) ++bad;
      }, [] { return true; });
    }
    CHECK(got == engines * kPerEngine);
    CHECK(bad == 0);
    for (int n : next) CHECK(n == kPerEngine);
  } else {
    MPI_Barrier(comm);
    for (int k = 0; k < kPerEngine; ++k) {
      auto m = make_message(rank, k);
      mpiply::detail::send_message(comm, 0, mpiply::detail::kTagResult,
                                   mpiply::detail::kTagBigResult, {m.data(), m.size()},
                                   mpiply::detail::kResultInboxBytes);
    }
  }
  MPI_Barrier(comm);
}

TEST_CASE("the ring's size does not grow with the engine count", "[transport][inbox]") {
  OwnComm own;
  ResultInbox one(own.comm, 1), many(own.comm, 10000);
  CHECK(one.slots() == 2);
  CHECK(many.slots() == ResultInbox::kMaxSlots);
}

// An apply's result: once the caller says nothing more is awaited (more() false), a poll hands
// out one message and returns, so the waiting thread sees it before MPI is called again; the
// messages behind it come out at the next polls, in order.
TEST_CASE("a poll stops after a message when nothing more is awaited", "[transport][inbox]") {
  OwnComm own;
  MPI_Comm comm = own.comm;
  const int rank = own.rank, size = own.size;
  constexpr int kMessages = 6;
  if (size < 2) return;
  if (rank == 0) {
    ResultInbox inbox(comm, size - 1);
    MPI_Barrier(comm);  // receives posted before rank 1 sends
    MPI_Barrier(comm);  // rank 1 has sent them all
    int got = 0, most = 0, asked = 0;
    std::vector<int> order;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (got < kMessages && std::chrono::steady_clock::now() < deadline) {
      int n = inbox.poll(
          [&](int e, const char* p, std::size_t, bool first) {
            CHECK(e == 0);
            CHECK(first);
            std::int32_t head[2];
            std::memcpy(head, p, sizeof head);
            order.push_back(head[1]);
          },
          [&] {
            ++asked;
            return false;
          });
      most = std::max(most, n);
      got += n;
    }
    CHECK(got == kMessages);
    CHECK(most == 1);
    CHECK(asked == kMessages);
    for (int k = 0; k < static_cast<int>(order.size()); ++k) CHECK(order[static_cast<std::size_t>(k)] == k);
  } else {
    MPI_Barrier(comm);
    if (rank == 1)
      for (int k = 0; k < kMessages; ++k) {
        std::int32_t m[4] = {rank, k, 0, 0};
        mpiply::detail::send_message(comm, 0, mpiply::detail::kTagResult,
                                     mpiply::detail::kTagBigResult,
                                     {reinterpret_cast<const char*>(m), sizeof m},
                                     mpiply::detail::kResultInboxBytes);
      }
    MPI_Barrier(comm);
  }
  MPI_Barrier(comm);
}
