#pragma once
// bench: 64 MiB in and out of engines. Baselines on MPI_COMM_WORLD before mpiply::run (every
// rank takes part): rank 1 -> 0 by MPI_Send into a warm buffer (for pull), MPI_Scatterv and
// MPI_Gatherv with rank 0 as root holding no share (for scatter and gather), and Boost.MPI
// sending a std::map<std::string, std::vector<double>> of the same size 0 -> 1 and 1 -> 0 (for
// push and pull of that map). The mpiply side, inside mpiply::run: rc[0].pull and pull_into (into
// a warm buffer), scatter, gather and gather_into over every engine, push and pull of the map.
// Best of the repeats after one warm-up each. Each mpiply row's baseline lands in the same kind
// of memory: warm huge pages for the *_into rows, fresh memory for pull and gather.
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <mpiply/mpiply.hpp>

#include "common.hpp"
#include "mpi_yield.hpp"

namespace bench {

using Payload = std::map<std::string, std::vector<double>>;
constexpr int kTagData = 110, kTagDataAck = 111;

// 256 entries "key-000".."key-255" of bytes / 256 each.
inline Payload make_payload(std::size_t bytes) {
  Payload p;
  std::size_t per = bytes / 256 / sizeof(double);
  for (int k = 0; k < 256; ++k) {
    std::vector<double> v(per);
    for (std::size_t i = 0; i < per; ++i) v[i] = double(k) + double(i);
    p[fmt::format("key-{:03d}", k)] = std::move(v);
  }
  return p;
}

// Best GB/s over `repeats` calls of once() (seconds, as rank 0 saw them) after one warm-up.
template <class F>
double best_gbs(int repeats, double bytes, F&& once) {
  once();
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    double dt = once();
    if (dt > 0) best = std::max(best, bytes / dt / 1e9);
  }
  return best;
}

// Shares of n over ranks 1..size-1 (rank 0, the root, holds none), as counts and displacements.
inline void shares(std::size_t n, int size, std::vector<int>& counts, std::vector<int>& displs) {
  counts.assign(static_cast<std::size_t>(size), 0);
  displs.assign(static_cast<std::size_t>(size), 0);
  std::size_t workers = static_cast<std::size_t>(size - 1), off = 0;
  for (std::size_t w = 0; w < workers; ++w) {
    std::size_t c = n / workers + (w < n % workers ? 1 : 0);
    counts[w + 1] = static_cast<int>(c);
    displs[w + 1] = static_cast<int>(off);
    off += c;
  }
}

// A warm buffer of doubles, 2 MiB aligned and advised MADV_HUGEPAGE.
class HugeBuffer {
 public:
  explicit HugeBuffer(std::size_t count) : count_(count) {
    constexpr std::size_t kHuge = std::size_t(2) << 20;
    std::size_t bytes = std::max<std::size_t>((count * sizeof(double) + kHuge - 1) / kHuge * kHuge, kHuge);
    p_ = static_cast<double*>(std::aligned_alloc(kHuge, bytes));
    if (!p_) throw std::bad_alloc();
    madvise(p_, bytes, MADV_HUGEPAGE);
    std::fill(p_, p_ + count, 1.0);  // touched: warm pages
  }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  ~HugeBuffer() { std::free(p_); }
  std::span<double> span() const { return {p_, count_}; }

 private:
  double* p_ = nullptr;
  std::size_t count_ = 0;
};

inline void data_baselines(int rank, int size, const Config& cfg, const std::vector<double>& data,
                           DataFigures& d) {
  std::size_t n = cfg.bw_bytes / sizeof(double);
  d.bytes = double(n * sizeof(double));
  std::vector<int> counts, displs;
  shares(n, size, counts, displs);
  std::size_t mine = static_cast<std::size_t>(counts[static_cast<std::size_t>(rank)]);
  // Warm buffers: rank 0 receives into one of n, the others hold their share (rank 1 all of it).
  // On huge pages, as mpiply's own buffers are: with 4 KiB pages Open MPI's single copy walks
  // 512 times more pages and runs at a third of the speed, a baseline too easy to beat. The plain
  // std::vector case stays as a context row (mpi_recv_4k_gbs).
  std::size_t len = rank == 0 ? n : rank == 1 ? std::max(n, mine) : mine;
  HugeBuffer hbuf(len);
  std::span<double> buf = hbuf.span();
  std::vector<double> plain(len, 1.0);
  auto timed = [&](auto&& body) {
    return [&, body] {
      MPI_Barrier(MPI_COMM_WORLD);
      auto t0 = SteadyClock::now();
      body();
      return seconds_since(t0);
    };
  };
  int ni = static_cast<int>(n);
  // Rank 1 sends n doubles from `from` to rank 0's `into` after a 0-byte request; rank 0 may
  // choose a new buffer each time (fresh) by passing a function for `into`.
  auto recv_from_1 = [&](auto into, double* from) {
    return timed([&, into, from] {
      if (rank == 0) {
        auto dst = into();
        MPI_Send(nullptr, 0, MPI_BYTE, 1, kTagDataAck, MPI_COMM_WORLD);
        MPI_Recv(dst.get(), ni, MPI_DOUBLE, 1, kTagData, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(nullptr, 0, MPI_BYTE, 0, kTagDataAck, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(from, ni, MPI_DOUBLE, 0, kTagData, MPI_COMM_WORLD);
      }
    });
  };
  // A buffer that stays (warm): a non-owning handle to it.
  auto warm = [](double* p) {
    return [p] { return std::unique_ptr<double[], void (*)(double*)>(p, [](double*) {}); };
  };
  // Where Open MPI yields when idle (oversubscribed), each row also runs with that off on the
  // ranks that take part, and the faster counts (mpi_yield.hpp).
  auto fastest = [&](auto run, bool here) {
    return both_yield_settings([&] { return best_gbs(cfg.bw_repeats, d.bytes, run); }, here)
        .best(false);
  };
  bool pair = rank <= 1;  // the point-to-point rows: the others wait in the barrier
  d.mpi_recv_gbs = fastest(recv_from_1(warm(buf.data()), buf.data()), pair);
  d.mpi_recv_4k_gbs = fastest(recv_from_1(warm(plain.data()), plain.data()), pair);
  // The same into memory never touched before, as pull returns a new vector each time.
  d.mpi_recv_fresh_gbs = fastest(recv_from_1([n] {
    return std::unique_ptr<double[], void (*)(double*)>(new double[n], [](double* p) { delete[] p; });
  }, buf.data()), pair);
  // Scatterv returns on the root once its sends are done; the barrier closes it as the
  // blocking scatter's "every target stored it" does.
  d.mpi_scatterv_gbs = fastest(timed([&] {
    MPI_Scatterv(rank == 0 ? data.data() : nullptr, counts.data(), displs.data(), MPI_DOUBLE,
                 buf.data(), static_cast<int>(mine), MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
  }), true);
  d.mpi_gatherv_gbs = fastest(timed([&] {
    MPI_Gatherv(buf.data(), static_cast<int>(mine), MPI_DOUBLE, buf.data(), counts.data(),
                displs.data(), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  }), true);
  // The same two by hand: the root posts every share's send (receive) at once and waits for all.
  std::vector<MPI_Request> reqs;
  auto every_share = [&](auto post) {  // post(first element, count, rank, request)
    reqs.assign(static_cast<std::size_t>(size - 1), MPI_REQUEST_NULL);
    for (int r = 1; r < size; ++r) {
      auto i = static_cast<std::size_t>(r);
      post(displs[i], counts[i], r, &reqs[i - 1]);
    }
    MPI_Waitall(size - 1, reqs.data(), MPI_STATUSES_IGNORE);
  };
  d.mpi_scatter_isend_gbs = fastest(timed([&] {
    if (rank == 0)
      every_share([&](int at, int count, int r, MPI_Request* q) {
        MPI_Isend(data.data() + at, count, MPI_DOUBLE, r, kTagData, MPI_COMM_WORLD, q);
      });
    else
      MPI_Recv(buf.data(), static_cast<int>(mine), MPI_DOUBLE, 0, kTagData, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
    MPI_Barrier(MPI_COMM_WORLD);
  }), true);
  d.mpi_gather_irecv_gbs = fastest(timed([&] {
    if (rank == 0)
      every_share([&](int at, int count, int r, MPI_Request* q) {
        MPI_Irecv(buf.data() + at, count, MPI_DOUBLE, r, kTagData, MPI_COMM_WORLD, q);
      });
    else
      MPI_Send(buf.data(), static_cast<int>(mine), MPI_DOUBLE, 0, kTagData, MPI_COMM_WORLD);
  }), true);
  // Gather into memory never touched before, as gather returns a new vector each time: the
  // better of the collective and the hand-posted receives, as for gather_into.
  auto gather_fresh = [&](bool by_hand) {
    return timed([&, by_hand] {
      std::unique_ptr<double[]> fresh(rank == 0 ? new double[n] : nullptr);
      if (!by_hand)
        MPI_Gatherv(buf.data(), static_cast<int>(mine), MPI_DOUBLE, fresh.get(), counts.data(),
                    displs.data(), MPI_DOUBLE, 0, MPI_COMM_WORLD);
      else if (rank == 0)
        every_share([&](int at, int count, int r, MPI_Request* q) {
          MPI_Irecv(fresh.get() + at, count, MPI_DOUBLE, r, kTagData, MPI_COMM_WORLD, q);
        });
      else
        MPI_Send(buf.data(), static_cast<int>(mine), MPI_DOUBLE, 0, kTagData, MPI_COMM_WORLD);
    });
  };
  d.mpi_gather_fresh_gbs =
      std::max(fastest(gather_fresh(false), true), fastest(gather_fresh(true), true));
  // Boost.MPI: the object itself, serialized by Boost on one side and rebuilt on the other.
  boost::mpi::communicator world;
  Payload payload = rank <= 1 ? make_payload(cfg.bw_bytes) : Payload{};
  d.payload_bytes = d.bytes;
  Payload in;
  d.boostmpi_send_gbs = fastest(timed([&] {
    if (rank == 0) {
      world.send(1, kTagData, payload);
      world.recv(1, kTagDataAck);
    } else if (rank == 1) {
      world.recv(0, kTagData, in);
      world.send(0, kTagDataAck);
    }
  }), pair);
  d.boostmpi_return_gbs = fastest(timed([&] {
    if (rank == 0) {
      world.send(1, kTagDataAck);
      world.recv(1, kTagData, in);
    } else if (rank == 1) {
      world.recv(0, kTagDataAck);
      world.send(0, kTagData, payload);
    }
  }), pair);
  MPI_Barrier(MPI_COMM_WORLD);
}

inline void data_figures(mpiply::Client& rc, const Config& cfg, const std::vector<double>& data,
                         DataFigures& d) {
  auto e0 = rc[0];
  auto all = rc[mpiply::all];
  auto check = [](bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("bench: ") + what + " returned wrong data");
  };
  auto timed = [&](auto&& body) {
    return [&, body] {
      auto t0 = SteadyClock::now();
      body();
      double dt = seconds_since(t0);
      rc.purge_everything();  // the hub keeps every result: drop the 64 MiB it just kept
      return dt;
    };
  };
  e0.push({{"x", data}});
  d.pull_gbs = best_gbs(cfg.bw_repeats, d.bytes, timed([&] {
    auto v = e0.pull<std::vector<double>>("x");
    check(v.size() == data.size() && v.back() == data.back(), "pull");
  }));
  // The same into a buffer of the caller's, reused (warm) and on huge pages, as the MPI baseline
  // receives.
  HugeBuffer into_buf(data.size());
  std::span<double> into = into_buf.span();
  d.pull_into_gbs = best_gbs(cfg.bw_repeats, d.bytes, timed([&] {
    e0.pull_into("x", into);
    check(into.front() == data.front() && into.back() == data.back(), "pull_into");
  }));
  e0.clear();
  d.scatter_gbs = best_gbs(cfg.bw_repeats, d.bytes, timed([&] { all.scatter("s", data); }));
  d.gather_gbs = best_gbs(cfg.bw_repeats, d.bytes, timed([&] {
    auto v = all.gather<double>("s");
    check(v.size() == data.size() && v.back() == data.back(), "gather");
  }));
  d.gather_into_gbs = best_gbs(cfg.bw_repeats, d.bytes, timed([&] {
    all.gather_into("s", into);
    check(into.front() == data.front() && into.back() == data.back(), "gather_into");
  }));
  all.clear();
  Payload payload = make_payload(cfg.bw_bytes);
  d.payload_push_gbs = best_gbs(cfg.bw_repeats, d.payload_bytes, timed([&] {
    e0.push({{"m", payload}});
  }));
  d.payload_pull_gbs = best_gbs(cfg.bw_repeats, d.payload_bytes, timed([&] {
    auto m = e0.pull<Payload>("m");
    check(m.size() == payload.size() && m.rbegin()->second == payload.rbegin()->second, "pull");
  }));
  e0.clear();
}

}  // namespace bench
