#pragma once
// bench: the raw-MPI baselines on MPI_COMM_WORLD that mpiply is measured against, in the same run:
// ping-pong, a hand-written master/worker farm, and MPI_Send bandwidth.
#include <sys/mman.h>

#include <cstring>

#include <mpiply/detail/wire.hpp>

#include "common.hpp"

namespace bench {

// ---- raw-MPI baselines (every rank of MPI_COMM_WORLD takes part) -------------------------------
constexpr int kTagPing = 101, kTagTask = 102, kTagStop = 103, kTagBw = 104, kTagAck = 105,
              kTagPattern = 106;


// Round trips of 8 bytes between ranks 0 and 1, each timed on its own: the median and the tail
// (the mean is pingpong_loop's); other ranks wait in the barrier.
inline RoundTrip pingpong(int rank, const Config& cfg) {
  std::int64_t buf = 0;
  std::vector<double> rtts;
  if (rank == 0) rtts.reserve(static_cast<std::size_t>(cfg.pingpong_rounds));
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank <= 1) {
    int peer = 1 - rank;
    for (int i = 0; i < cfg.pingpong_warmup + cfg.pingpong_rounds; ++i) {
      if (rank == 0) {
        auto t0 = SteadyClock::now();
        MPI_Send(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD);
        MPI_Recv(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (i >= cfg.pingpong_warmup) rtts.push_back(seconds_since(t0) * 1e6);
      } else {
        MPI_Recv(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD);
      }
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return timed_round_trips(rtts);
}

// Microseconds per round(), timed once around a loop of cfg.pingpong_rounds after
// cfg.pingpong_warmup: no clock cost or per-round jitter in it.
template <class Round>
inline double loop_mean_us(const Config& cfg, Round&& round) {
  for (int i = 0; i < cfg.pingpong_warmup; ++i) round();
  double t0 = MPI_Wtime();
  for (int i = 0; i < cfg.pingpong_rounds; ++i) round();
  return (MPI_Wtime() - t0) / cfg.pingpong_rounds * 1e6;
}

// mpiply's own messaging for one apply, in plain MPI with no mpiply code: the floor under an
// apply's round trip that its transport sets (context for the ping-pong target). Rank 0 sends a
// message the size of a no-op call's task with MPI_Isend and polls a persistent MPI_ANY_SOURCE
// receive with MPI_Test, then completes the send and posts the receive again; rank 1 polls its
// own persistent receive, posts it again and answers with a message the size of a no-op's result
// (MPI_Send), as wire/transport.hpp's inboxes and an engine do. Mean per round trip over a
// loop, as pingpong_loop; other ranks wait in the barrier.
inline double pattern_loop(int rank, const Config& cfg) {
  // A no-op call: the header and one empty item (its u32 length); its result: the header and
  // one item (u8 status, u32 length, no value bytes).
  constexpr int kTaskBytes = int(sizeof(mpiply::detail::TaskHeader)) + 4;
  constexpr int kResultBytes = int(sizeof(mpiply::detail::ResultHeader)) + 5;
  std::vector<char> out(kResultBytes, 0), in(4096);
  double us = 0;
  MPI_Request recv = MPI_REQUEST_NULL;
  if (rank <= 1) {
    MPI_Recv_init(in.data(), static_cast<int>(in.size()), MPI_BYTE,
                  rank == 0 ? MPI_ANY_SOURCE : 0, kTagPattern, MPI_COMM_WORLD, &recv);
    MPI_Start(&recv);
  }
  MPI_Barrier(MPI_COMM_WORLD);  // both receives posted before the first message
  if (rank <= 1) {
    us = loop_mean_us(cfg, [&] {
      int got = 0;
      if (rank == 0) {
        MPI_Request send;
        MPI_Isend(out.data(), kTaskBytes, MPI_BYTE, 1, kTagPattern, MPI_COMM_WORLD, &send);
        while (!got) MPI_Test(&recv, &got, MPI_STATUS_IGNORE);
        MPI_Wait(&send, MPI_STATUS_IGNORE);
        MPI_Start(&recv);
      } else {
        while (!got) MPI_Test(&recv, &got, MPI_STATUS_IGNORE);
        MPI_Start(&recv);
        MPI_Send(out.data(), kResultBytes, MPI_BYTE, 0, kTagPattern, MPI_COMM_WORLD);
      }
    });
    MPI_Cancel(&recv);  // the receive posted after the last round
    MPI_Wait(&recv, MPI_STATUS_IGNORE);
    MPI_Request_free(&recv);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return us;
}

// A hand-written master/worker farm: rank 0 keeps `hwm` 8-byte tasks outstanding on every worker
// (nonblocking sends, one send buffer per slot) and refills whichever worker answered; workers
// answer each task with 8 bytes. Returns tasks per second on rank 0.
inline double farm_once(int rank, int size, int hwm, long total) {
  MPI_Barrier(MPI_COMM_WORLD);
  double rate = 0;
  if (rank == 0) {
    int workers = size - 1;
    std::size_t slots = std::size_t(workers) * std::size_t(hwm);
    std::vector<std::int64_t> sendbuf(slots);
    std::vector<MPI_Request> reqs(slots, MPI_REQUEST_NULL);
    std::vector<int> next_slot(std::size_t(workers), 0);  // oldest outstanding slot per worker
    long sent = 0, received = 0;
    auto send_to = [&](int w, std::size_t slot) {
      sendbuf[slot] = sent++;
      MPI_Isend(&sendbuf[slot], 1, MPI_INT64_T, w + 1, kTagTask, MPI_COMM_WORLD, &reqs[slot]);
    };
    auto t0 = SteadyClock::now();
    for (int k = 0; k < hwm; ++k)
      for (int w = 0; w < workers && sent < total; ++w)
        send_to(w, std::size_t(w) * std::size_t(hwm) + std::size_t(k));
    std::int64_t reply = 0;
    MPI_Status st;
    while (received < total) {
      MPI_Recv(&reply, 1, MPI_INT64_T, MPI_ANY_SOURCE, kTagTask, MPI_COMM_WORLD, &st);
      ++received;
      if (sent < total) {
        // Replies come in order, so the slot of the oldest task of this worker is now free.
        int w = st.MPI_SOURCE - 1;
        std::size_t slot = std::size_t(w) * std::size_t(hwm) + std::size_t(next_slot[w]);
        next_slot[w] = (next_slot[w] + 1) % hwm;
        MPI_Wait(&reqs[slot], MPI_STATUS_IGNORE);
        send_to(w, slot);
      }
    }
    double dt = seconds_since(t0);
    MPI_Waitall(static_cast<int>(reqs.size()), reqs.data(), MPI_STATUSES_IGNORE);
    std::int64_t stop = 0;
    for (int w = 1; w < size; ++w) MPI_Send(&stop, 1, MPI_INT64_T, w, kTagStop, MPI_COMM_WORLD);
    rate = double(total) / dt;
  } else {
    std::int64_t task = 0;
    MPI_Status st;
    for (;;) {
      MPI_Recv(&task, 1, MPI_INT64_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
      if (st.MPI_TAG == kTagStop) break;
      MPI_Send(&task, 1, MPI_INT64_T, 0, kTagTask, MPI_COMM_WORLD);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return rate;
}

// Ping-pong timed once around the whole loop (loop_mean_us): the tight floor for a round trip.
// Microseconds per round trip; other ranks wait in the barrier.
inline double pingpong_loop(int rank, const Config& cfg) {
  std::int64_t buf = 0;
  double us = 0;
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank <= 1) {
    int peer = 1 - rank;
    auto round = [&] {
      if (rank == 0) {
        MPI_Send(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD);
        MPI_Recv(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else {
        MPI_Recv(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(&buf, 1, MPI_INT64_T, peer, kTagPing, MPI_COMM_WORLD);
      }
    };
    us = loop_mean_us(cfg, round);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return us;
}

// The simplest farm: rank 0 keeps `window` 8-byte tasks outstanding on every worker, sending each
// with a blocking MPI_Send (8 bytes go eagerly, so it returns at once), and refills whichever
// worker answered MPI_Recv(MPI_ANY_SOURCE). No requests to track: on shared memory this is the
// fastest plain-MPI farm (issue 12). Tasks per second on rank 0.
inline double farm_blocking_once(int rank, int size, int window, long total) {
  MPI_Barrier(MPI_COMM_WORLD);
  double rate = 0;
  if (rank == 0) {
    int workers = size - 1;
    std::int64_t next = 0;
    long received = 0;
    auto t0 = SteadyClock::now();
    for (int k = 0; k < window; ++k)
      for (int w = 1; w <= workers && next < total; ++w, ++next)
        MPI_Send(&next, 1, MPI_INT64_T, w, kTagTask, MPI_COMM_WORLD);
    std::int64_t reply = 0;
    MPI_Status st;
    while (received < total) {
      MPI_Recv(&reply, 1, MPI_INT64_T, MPI_ANY_SOURCE, kTagTask, MPI_COMM_WORLD, &st);
      ++received;
      if (next < total) {
        MPI_Send(&next, 1, MPI_INT64_T, st.MPI_SOURCE, kTagTask, MPI_COMM_WORLD);
        ++next;
      }
    }
    double dt = seconds_since(t0);
    std::int64_t stop = 0;
    for (int w = 1; w < size; ++w) MPI_Send(&stop, 1, MPI_INT64_T, w, kTagStop, MPI_COMM_WORLD);
    rate = double(total) / dt;
  } else {
    std::int64_t task = 0;
    MPI_Status st;
    for (;;) {
      MPI_Recv(&task, 1, MPI_INT64_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
      if (st.MPI_TAG == kTagStop) break;
      MPI_Send(&task, 1, MPI_INT64_T, 0, kTagTask, MPI_COMM_WORLD);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return rate;
}

// Median tasks per second of `repeats` runs of a farm (after one short warm-up run).
template <class Farm>
double farm_median(int repeats, long total, Farm&& farm) {
  farm(std::min(total, 10000L));
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) rates.push_back(farm(total));
  return median(rates);
}

// Warm bytes from rank 0 to rank 1 by MPI_Send, each transfer closed by a 0-byte
// acknowledgement; the best GB/s (1e9 bytes) over the repeats after one warm-up transfer. Best,
// not median: on a shared VM single transfers vary by 5x with the load, and push is taken the
// same way.
// With huge_pages the receive buffer is 2 MiB aligned and advised MADV_HUGEPAGE, as mpiply's own
// receive buffers are: push's baseline (mpi_bw_huge_gbs). Without, a plain std::vector: context
// (mpi_bw_gbs), since 4 KiB pages make the copy slower than what mpiply does.
inline double mpi_bandwidth(int rank, const Config& cfg, const std::vector<double>& data,
                     bool huge_pages = false) {
  std::size_t count = cfg.bw_bytes / sizeof(double);
  std::vector<double> plain;
  double* rbuf = nullptr;
  if (rank == 1) {
    if (huge_pages) {
      constexpr std::size_t kHuge = std::size_t(2) << 20;
      std::size_t bytes = (count * sizeof(double) + kHuge - 1) / kHuge * kHuge;
      rbuf = static_cast<double*>(std::aligned_alloc(kHuge, bytes));
      madvise(rbuf, bytes, MADV_HUGEPAGE);
    } else {
      plain.resize(count);
      rbuf = plain.data();
    }
    std::fill(rbuf, rbuf + count, 0.0);  // touched: warm pages
  }
  std::vector<double> rates;
  int n = static_cast<int>(count);
  for (int i = 0; i < cfg.bw_repeats + 1; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
      auto t0 = SteadyClock::now();
      MPI_Send(data.data(), n, MPI_DOUBLE, 1, kTagBw, MPI_COMM_WORLD);
      MPI_Recv(nullptr, 0, MPI_BYTE, 1, kTagAck, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      double dt = seconds_since(t0);
      if (i > 0) rates.push_back(double(count * sizeof(double)) / dt / 1e9);
    } else if (rank == 1) {
      MPI_Recv(rbuf, n, MPI_DOUBLE, 0, kTagBw, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(nullptr, 0, MPI_BYTE, 0, kTagAck, MPI_COMM_WORLD);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (huge_pages) std::free(rbuf);
  return rates.empty() ? 0.0 : *std::max_element(rates.begin(), rates.end());
}

}  // namespace bench
