// Not-run answers for the calls an engine holds when a drain begins (drain_engine.hpp).
#include "engine/drain_engine.hpp"

#include <cstring>

#include <fmt/format.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/wire.hpp>

#include "support/clock.hpp"
#include "runtime/drain.hpp"
#include "wire/result_codec.hpp"

namespace mpiply::detail {

bool answer_if_draining(const Engine& eng, const char* msg, std::size_t n, Bytes& out,
                        std::int64_t clock_offset_ns) {
  if (!drain_requested() || n < sizeof(TaskHeader)) return false;
  TaskHeader h;
  std::memcpy(&h, msg, sizeof h);
  // A count the message cannot hold is corrupt: execute_task answers that as a decode error.
  if (h.kind != Kind::call || h.nitems > (n - sizeof h) / 4) return false;
  out.clear();
  Writer w(out);
  ResultHeader rh{};
  rh.msg_id = h.msg_id;
  rh.started_ns = rh.completed_ns = now_ns() - clock_offset_ns;
  rh.nitems = h.nitems;
  w.pod(rh);
  std::string why = fmt::format("engine {} did not start this task: the job was interrupted by "
                                "{}, so it was not run; rerun the job to resume",
                                eng.id(), drain_signal_name(drain_signal()));
  for (std::uint32_t i = 0; i < h.nitems; ++i)
    write_error_item(w, ErrorKind::aborted, "mpiply::TaskAborted", why);
  return true;
}

}  // namespace mpiply::detail
