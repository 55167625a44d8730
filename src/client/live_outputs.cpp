// Rank 0's live output and published data (live_outputs.hpp).
#include "client/live_outputs.hpp"

#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/wire.hpp>

#include "support/idle_yield.hpp"
#include "support/mpi_check.hpp"
#include "executor/published_data.hpp"
#include "wire/result_codec.hpp"
#include "runtime/settings.hpp"

namespace mpiply::detail {

LiveOutputs::LiveOutputs()
    : streaming_(settings().stream_output), print_(settings().stream_output && settings().stream_print) {}

int LiveOutputs::poll(MPI_Comm comm, const std::function<bool(std::uint64_t, int&)>& running) {
  NoIdleYield quiet;  // polled with mpiply's own back-off (idle_yield.hpp)
  int n = 0;
  std::vector<char> buf;
  for (;;) {
    int flag = 0;
    MPI_Message m;
    MPI_Status st;
    mpi_check(MPI_Improbe(MPI_ANY_SOURCE, kTagStream, comm, &flag, &m, &st), "MPI_Improbe");
    if (!flag) return n;
    int count = 0;
    mpi_check(MPI_Get_count(&st, MPI_BYTE, &count), "MPI_Get_count");
    buf.resize(static_cast<std::size_t>(count));
    mpi_check(MPI_Mrecv(buf.data(), count, MPI_BYTE, &m, MPI_STATUS_IGNORE), "MPI_Mrecv");
    on_stream(buf.data(), buf.size(), st.MPI_SOURCE - 1, running);
    ++n;
  }
}

void LiveOutputs::on_stream(const char* p, std::size_t n, int engine,
                            const std::function<bool(std::uint64_t, int&)>& running) {
  try {
    Reader r(p, n);
    std::uint64_t msg = r.u64();
    int runs_on = -1;
    // Sent before the task's result but received after it (another tag): the result had it all.
    if (!running(msg, runs_on) || runs_on != engine) return;
    while (r.remaining() != 0) {
      std::uint8_t kind = r.u8();
      if (kind == kStreamData) {
        data_[msg] = decode_data(r.str());
        continue;
      }
      if (kind != kStreamOut && kind != kStreamErr)
        throw ValueDecodeError(fmt::format("unknown stream record kind {}", kind));
      int s = kind == kStreamOut ? 0 : 1;
      std::uint64_t off = r.u64();
      std::string_view chunk = r.str();
      Task& t = live_[msg];
      // In order from one engine (MPI does not overtake): a chunk that does not continue the
      // text is out of step and dropped; the result brings the whole text anyway.
      if (off != t.text[s].size()) continue;
      t.text[s].append(chunk);
      if (print_) print_lines(engine, s, t.text[s], t.printed[s], false);
    }
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "mpiply: engine %d sent a malformed stream message (%zu bytes): %s; "
                 "ignored (the task's result still carries its output)\n",
                 engine, n, ex.what());
  }
}

void LiveOutputs::on_result(std::uint64_t msg, int engine, const ResultOutput& o) {
  if (o.has_data) {
    try {
      data_[msg] = decode_data(o.data);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "mpiply: msg %llu's published data did not decode: %s\n",
                   static_cast<unsigned long long>(msg), ex.what());
    }
  }
  if (!streaming_) return;
  auto it = live_.find(msg);
  if (print_ && o.present) {
    Task none;
    Task& t = it == live_.end() ? none : it->second;
    print_lines(engine, 0, std::string(o.out), t.printed[0], true);
    print_lines(engine, 1, std::string(o.err), t.printed[1], true);
  }
  if (it != live_.end()) live_.erase(it);
}

void LiveOutputs::print_lines(int engine, int stream, const std::string& text,
                              std::uint64_t& printed, bool final) {
  if (printed >= text.size()) return;
  std::size_t end = final ? text.size() : text.rfind('\n') + 1;  // npos + 1 = 0
  if (end <= printed) return;
  std::FILE* f = stream == 0 ? stdout : stderr;
  std::string out;
  const char* name = stream == 0 ? "stdout" : "stderr";
  for (std::size_t at = printed; at < end;) {
    std::size_t nl = text.find('\n', at);
    std::size_t stop = nl == std::string::npos || nl >= end ? end : nl + 1;
    out += fmt::format("[{}:{}] ", name, engine);
    out.append(text, at, stop - at);
    if (out.back() != '\n') out += '\n';
    at = stop;
  }
  std::fwrite(out.data(), 1, out.size(), f);
  std::fflush(f);
  printed = end;
}

const std::string* LiveOutputs::live_text(std::uint64_t msg, int stream) const {
  auto it = live_.find(msg);
  return it == live_.end() ? nullptr : &it->second.text[stream];
}

const DataMap* LiveOutputs::data(std::uint64_t msg) const {
  auto it = data_.find(msg);
  return it == data_.end() ? nullptr : &it->second;
}

}  // namespace mpiply::detail
