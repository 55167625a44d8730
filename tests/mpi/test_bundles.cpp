// Bundles (src/wire/bundle.hpp): small tasks rank 0 sends one engine in one dispatch pass travel
// in one MPI message, and the results of a bundle of brief calls may wait on the engine to leave
// together (src/engine/result_outbox.hpp). The first cases drive the two ends directly (the
// TaskInbox handing out pieces, the ResultOutbox holding and sending); the rest run maps through
// mpiply::run, with tasks small and large mixed, at every window size, and check that the results
// of long tasks are never held back.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <mpi.h>

#include <mpiply/detail/wire.hpp>
#include <mpiply/mpiply.hpp>

#include "engine/result_outbox.hpp"
#include "support.hpp"
#include "wire/bundle.hpp"
#include "wire/transport.hpp"

namespace {

using namespace mpiply::detail;
constexpr mpiply::Seconds kBound{120};

// Piece k for engine rank r: n bytes, the first a task kind (so it is never taken for a bundle),
// the rest depending on r and k.
std::string task_piece(int r, int k, std::size_t n) {
  std::string s(n, '\0');
  s[0] = 1;
  for (std::size_t i = 1; i < n; ++i) s[i] = static_cast<char>((i * 7 + k * 31 + r) & 0xff);
  return s;
}

// A result message: its header (msg id k, completed at `completed`) and n bytes after it.
Bytes result_msg(int r, std::uint64_t k, std::int64_t completed, std::size_t n) {
  Bytes b;
  ResultHeader h{};
  h.msg_id = k;
  h.started_ns = completed - 10;
  h.completed_ns = completed;
  b.append(&h, sizeof h);
  for (std::size_t i = 0; i < n; ++i) {
    char c = static_cast<char>((i * 13 + k * 5 + static_cast<std::uint64_t>(r)) & 0xff);
    b.append(&c, 1);
  }
  return b;
}

std::string str(const Bytes& b) { return std::string(b.data(), b.size()); }

}  // namespace

TEST_CASE("an engine's TaskInbox hands a bundle out a piece at a time", "[bundle][wire]") {
  mpiply_test::OwnComm c;
  if (c.size < 2) return;  // no engine rank
  // What rank 0 sends every engine: (pieces, flags); one piece alone is sent as it is.
  struct Send {
    std::vector<std::size_t> sizes;
    std::uint32_t flags;
  };
  std::vector<Send> plan = {{{40, 200, 1000}, kBundleHoldResults},
                            {{50}, 0},
                            {{64, 8}, 0},
                            {{70 << 10}, 0},  // over the posted buffer: envelope, then itself
                            {std::vector<std::size_t>(kBundleMaxPieces, 100), kBundleHoldResults},
                            {{1 << 20}, 0},  // a megabyte
                            {{30}, 0}};
  if (c.rank == 0) {
    MPI_Barrier(c.comm);  // the engines' receives are posted
    std::vector<Bytes> bufs;
    std::vector<std::string> keep;
    bufs.reserve(plan.size() * static_cast<std::size_t>(c.size));
    keep.reserve(1000);
    std::vector<Envelope> envs(plan.size() * static_cast<std::size_t>(c.size));
    std::vector<MPI_Request> reqs(2 * envs.size(), MPI_REQUEST_NULL);
    std::size_t m = 0;
    for (int r = 1; r < c.size; ++r) {
      int k = 0;
      for (const Send& s : plan) {
        bufs.emplace_back();
        Bytes& b = bufs.back();
        if (s.sizes.size() == 1) {
          std::string p = task_piece(r, k++, s.sizes[0]);
          b.append(p.data(), p.size());
        } else {
          BundleWriter w(b);
          w.begin(s.flags);
          for (std::size_t n : s.sizes) {
            keep.push_back(task_piece(r, k++, n));
            w.add({keep.back().data(), keep.back().size()});
          }
        }
        isend_message(c.comm, r, kTagTask, kTagBigTask, {b.data(), b.size()}, kTaskInboxBytes,
                      envs[m], reqs[2 * m], reqs[2 * m + 1]);
        ++m;
      }
    }
    MPI_Waitall(static_cast<int>(reqs.size()), reqs.data(), MPI_STATUSES_IGNORE);
  } else {
    TaskInbox inbox(c.comm);
    MPI_Barrier(c.comm);
    int k = 0, bad = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (const Send& s : plan) {
      for (std::size_t j = 0; j < s.sizes.size(); ++j) {
        std::span<const char> msg;
        bool got = false;
        while (!(got = inbox.poll(msg)) && std::chrono::steady_clock::now() < deadline) {
        }
        REQUIRE(got);
        if (std::string(msg.data(), msg.size()) != task_piece(c.rank, k, s.sizes[j])) ++bad;
        ++k;
        bool alone = s.sizes.size() == 1;
        CHECK(inbox.pieces_left() == s.sizes.size() - j - 1);
        CHECK(inbox.bundle_flags() == (alone ? 0u : s.flags));
      }
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("held results leave together; a large one, an old one or a flush sends them",
          "[bundle][wire]") {
  mpiply_test::OwnComm c;
  if (c.size < 2) return;
  const std::int64_t t = 1'000'000'000;
  // Engine r sends these (hold flag each); rank 0 expects the messages below, in order.
  if (c.rank != 0) {
    ResultOutbox out(c.comm);
    auto r = [&](std::uint64_t k, std::int64_t at, std::size_t n) { return result_msg(c.rank, k, at, n); };
    out.send(r(0, t, 8), true);
    CHECK(out.held() == 1);
    out.send(r(1, t + 5, 100), true);
    CHECK(out.held() == 2);
    out.send(r(2, t + 9, 8), false);  // the bundle's last: all three go
    CHECK(out.held() == 0);
    out.send(r(3, t + 20, 8), false);  // alone, at once
    out.send(r(4, t + 30, 8), true);
    out.send(r(5, t + 40, std::size_t(1) << 20), true);  // too large to hold: 4 goes, then 5
    CHECK(out.held() == 0);
    out.send(r(6, t + 50, 8), true);
    out.send(r(7, t + 50 + kHoldResultsNs, 8), true);  // 6 completed long enough ago
    CHECK(out.held() == 0);
    out.send(r(8, t + 60 + kHoldResultsNs, 2000), true);  // over the size a held result may have
    CHECK(out.held() == 0);
    out.send(r(9, t + 70 + kHoldResultsNs, 8), true);
    CHECK(out.held() == 1);
    out.flush();  // one held result goes as it is
    CHECK(out.held() == 0);
    // Held until the next would not fit the posted receive: several bundles, none too large.
    for (std::uint64_t k = 10; k < 50; ++k) out.send(r(k, t + 100 + kHoldResultsNs, 900), true);
    out.flush();
    MPI_Barrier(c.comm);
    return;
  }
  for (int src = 1; src < c.size; ++src) {
    INFO("engine rank " << src);
    auto r = [&](std::uint64_t k, std::int64_t at, std::size_t n) { return str(result_msg(src, k, at, n)); };
    Bytes buf, big;
    // The next message from src: its pieces (one for a message that is not a bundle).
    auto next = [&] {
      MPI_Status st;
      MPI_Probe(src, kTagResult, c.comm, &st);
      int n = 0;
      MPI_Get_count(&st, MPI_BYTE, &n);
      buf.resize(static_cast<std::size_t>(n));
      MPI_Recv(buf.data(), n, MPI_BYTE, src, kTagResult, c.comm, MPI_STATUS_IGNORE);
      CHECK(buf.size() <= kResultInboxBytes);
      std::span<const char> msg = receive_big(c.comm, src, kTagBigResult, {buf.data(), buf.size()}, big);
      std::vector<std::string> pieces;
      if (!is_bundle(msg)) return std::vector<std::string>{std::string(msg.data(), msg.size())};
      BundleReader rd(msg);
      CHECK(rd.flags() == 0);
      std::span<const char> p;
      while (rd.left() > 0 && rd.next(p)) pieces.emplace_back(p.data(), p.size());
      return pieces;
    };
    CHECK(next() == std::vector<std::string>{r(0, t, 8), r(1, t + 5, 100), r(2, t + 9, 8)});
    CHECK(next() == std::vector<std::string>{r(3, t + 20, 8)});
    CHECK(next() == std::vector<std::string>{r(4, t + 30, 8)});
    CHECK(next() == std::vector<std::string>{r(5, t + 40, std::size_t(1) << 20)});
    CHECK(next() == std::vector<std::string>{r(6, t + 50, 8), r(7, t + 50 + kHoldResultsNs, 8)});
    CHECK(next() == std::vector<std::string>{r(8, t + 60 + kHoldResultsNs, 2000)});
    CHECK(next() == std::vector<std::string>{r(9, t + 70 + kHoldResultsNs, 8)});
    std::uint64_t k = 10;
    int messages = 0;
    while (k < 50) {
      auto pieces = next();
      ++messages;
      for (const auto& p : pieces) CHECK(p == r(k++, t + 100 + kHoldResultsNs, 900));
    }
    CHECK(k == 50);
    CHECK(messages > 1);   // the posted receive's size split them
    CHECK(messages < 10);  // but they did go together
  }
  MPI_Barrier(c.comm);
}

TEST_CASE("rank 0's ResultInbox hands on a bundle's results one by one, first marking each message",
          "[bundle][wire]") {
  mpiply_test::OwnComm c;
  if (c.size < 2) return;
  constexpr std::uint64_t kPerEngine = 400;
  auto size_of = [](std::uint64_t k) -> std::size_t {
    return k % 97 == 0 ? (std::size_t(1) << 20) : k % 11 == 0 ? 3000 : (k * 37) % 300;
  };
  if (c.rank != 0) {
    ResultOutbox out(c.comm);
    MPI_Barrier(c.comm);
    for (std::uint64_t k = 0; k < kPerEngine; ++k)
      out.send(result_msg(c.rank, k, 1000, size_of(k)), k % 5 != 4);  // bundles of up to 5
    out.flush();
    MPI_Barrier(c.comm);
    return;
  }
  ResultInbox inbox(c.comm, c.size - 1);
  MPI_Barrier(c.comm);
  std::vector<std::uint64_t> next(static_cast<std::size_t>(c.size - 1), 0);
  std::uint64_t got = 0, total = kPerEngine * static_cast<std::uint64_t>(c.size - 1);
  int bad = 0, later_pieces = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (got < total && std::chrono::steady_clock::now() < deadline) {
    got += static_cast<std::uint64_t>(inbox.poll([&](int e, const char* p, std::size_t n, bool first) {
      std::uint64_t k = next.at(static_cast<std::size_t>(e))++;
      if (std::string(p, n) != str(result_msg(e + 1, k, 1000, size_of(k)))) ++bad;
      // Results 0-4 of each five went together, unless one was too large to hold.
      if (!first) ++later_pieces;
    }, [] { return true; }));
  }
  CHECK(got == total);
  CHECK(bad == 0);
  CHECK(later_pieces > 0);
  MPI_Barrier(c.comm);
}

namespace {

// An item's argument: small for most, over the size a task may have in a bundle for some.
std::string arg_for(int i) {
  std::size_t n = i % 5 == 0 ? 3000 : static_cast<std::size_t>(i % 9);
  std::string s(n, '\0');
  for (std::size_t j = 0; j < n; ++j) s[j] = static_cast<char>('a' + (i + j) % 26);
  return s;
}
std::int64_t digest(std::string s, int i) {
  std::uint64_t h = static_cast<std::uint64_t>(i);
  for (char ch : s) h = h * 131 + static_cast<unsigned char>(ch);
  return static_cast<std::int64_t>(h >> 1);
}
int wait_ms(int ms, int i) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
  return i;
}

mpiply::RunOptions with_hwm(int hwm) {
  mpiply::RunOptions o;
  o.hwm = hwm;
  return o;
}

}  // namespace

MPIPLY_REGISTER(digest);
MPIPLY_REGISTER(wait_ms);

TEST_CASE("maps of small and large tasks come back whole and in order, at every window",
          "[bundle][e2e]") {
  char name[] = "test_bundles";
  char* argv[] = {name, nullptr};
  constexpr int kItems = 1500;
  std::vector<std::string> args;
  std::vector<int> ids = mpiply_test::iota_vec(kItems);
  std::vector<std::int64_t> want;
  for (int i = 0; i < kItems; ++i) {
    args.push_back(arg_for(i));
    want.push_back(digest(args.back(), i));
  }
  for (int hwm : {1, 2, 4, 8, 16}) {
    INFO("hwm " << hwm);
    int rc = mpiply::run(1, argv, with_hwm(hwm), [&](mpiply::Client& c) {
      CHECK(c.hwm() >= hwm);
      for (int round = 0; round < 2; ++round) {  // the second: the map's tasks known brief
        auto lb = c.load_balanced_view().map_async(digest, args, ids, {.chunksize = 1});
        auto direct = c.direct_view().map_async(digest, args, ids);
        CHECK(lb.get(kBound) == want);
        CHECK(direct.get(kBound) == want);
        CHECK(lb.sent());
        for (const auto& m : lb.metadata()) {
          REQUIRE(m.started.has_value());
          REQUIRE(m.completed.has_value());
          REQUIRE(m.received.has_value());
          CHECK(*m.started <= *m.completed);
          CHECK(*m.completed <= *m.received);
        }
      }
      // An apply in between still comes back alone and at once.
      CHECK(c[c.ids().front()].apply_async(digest, std::string("x"), 7).get(kBound) ==
            digest("x", 7));
      return 0;
    });
    REQUIRE(rc == 0);
  }
}

TEST_CASE("the results of long tasks are never held for the next", "[bundle][e2e]") {
  char name[] = "test_bundles";
  char* argv[] = {name, nullptr};
  int rc = mpiply::run(1, argv, with_hwm(4), [&](mpiply::Client& c) {
    // Each task runs 2 ms, twenty times the longest a task may run and have its result held.
    constexpr int kItems = 40;
    auto ar = c.load_balanced_view().map_async(wait_ms, std::vector<int>(kItems, 2),
                                               mpiply_test::iota_vec(kItems), {.chunksize = 1});
    CHECK(ar.get(kBound) == mpiply_test::iota_vec(kItems));
    // Each result came in a message of its own: rank 0 stamps `received` once per message.
    std::set<std::int64_t> stamps;
    for (const auto& m : ar.metadata()) stamps.insert(m.received->time_since_epoch().count());
    CHECK(stamps.size() == static_cast<std::size_t>(kItems));
    return 0;
  });
  REQUIRE(rc == 0);
}
