// AsyncResultBase's captured outputs: stdout(), stderr() and display_outputs() (docs/output.md).
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include <mpiply/async_result.hpp>
#include <mpiply/errors.hpp>

#include "client/client_core.hpp"
#include "runtime/settings.hpp"

namespace mpiply {

namespace {

// One block as ipyparallel prints it: "[stdout:0] text"; a text of several lines starts on the
// line after the prefix, and a block always ends with a newline.
// A single result's block is its text alone (no prefix).
void print_block(std::FILE* f, const char* stream, int engine, const std::string& text,
                 bool single = false) {
  if (text.empty()) return;
  bool ends_nl = text.back() == '\n';
  auto lines = std::count(text.begin(), text.end(), '\n');
  bool multiline = lines > (ends_nl ? 1 : 0);
  std::string prefix = single ? std::string() : fmt::format("[{}:{}] ", stream, engine);
  if (!single && multiline && text.front() != '\n') prefix += '\n';
  std::fputs(prefix.c_str(), f);
  std::fwrite(text.data(), 1, text.size(), f);
  if (!ends_nl) std::fputc('\n', f);
}

}  // namespace

std::vector<std::string> AsyncResultBase::outputs_of(const AsyncResultBase& ar, int stream) {
  std::vector<TaskMetadata> md = ar.metadata();
  std::vector<std::string> out;
  out.reserve(md.size());
  for (TaskMetadata& m : md) out.push_back(std::move(stream == 0 ? m.stdout : m.stderr));
  auto& core = *ar.st_->core;
  std::lock_guard lk(core.rank0().mu);
  if (!core.rank0().live.streaming()) return out;
  for (std::uint32_t k = 0; k < ar.st_->ntasks && k < out.size(); ++k)
    if (const std::string* t = core.rank0().live.live_text(ar.st_->msg(k), stream))
      if (out[k].empty()) out[k] = *t;
  return out;
}

// A finished task's output is in its metadata; a running one's is what streamed in so far.
std::vector<std::string> AsyncResultBase::stdout() const { return outputs_of(*this, 0); }

std::vector<std::string> AsyncResultBase::stderr() const { return outputs_of(*this, 1); }

std::vector<DataMap> AsyncResultBase::data() const {
  auto& core = *st_->core;
  std::lock_guard lk(core.rank0().mu);
  std::vector<DataMap> out(st_->ntasks);
  for (std::uint32_t k = 0; k < st_->ntasks; ++k)
    if (const DataMap* d = core.rank0().live.data(st_->msg(k))) out[k] = *d;
  return out;
}

bool AsyncResultBase::wait_for_output(std::optional<Seconds> timeout) const {
  // Each result carries its task's whole output and data, and rank 0 prints the streamed
  // lines still owed as it takes the result: waiting for the results is waiting for the output.
  return wait(timeout);
}

void AsyncResultBase::display_outputs(const std::string& groupby, std::FILE* out,
                                      std::FILE* err) const {
  if (groupby != "type" && groupby != "engine" && groupby != "order")
    throw UsageError(fmt::format("display_outputs: groupby is '{}'; use \"type\", \"engine\" or "
                                 "\"order\"",
                                 groupby));
  if (!detail::settings().capture_output) {
    // Off by default, as under plain mpirun: output goes to the terminal as it is written. An
    // ipyparallel user expects display_outputs to show it, so say where it went and how to
    // collect it instead of printing nothing.
    std::fputs("display_outputs: output capture is off, so each task's output went to its "
               "engine's own stdout and stderr (mpirun forwards them), not into this result. "
               "To collect it here, run with MPIPLY_CAPTURE=1 or set "
               "RunOptions::capture_output = true.\n",
               err);
    std::fflush(err);
    return;
  }
  std::vector<TaskMetadata> tasks = metadata();
  if (st_->single && tasks.size() == 1) {
    print_block(out, "stdout", tasks[0].engine_id, tasks[0].stdout, true);
    print_block(err, "stderr", tasks[0].engine_id, tasks[0].stderr, true);
  } else if (groupby == "engine") {
    // Engines in id order, each task's stdout then stderr, tasks of one engine in msg order.
    std::stable_sort(tasks.begin(), tasks.end(), [](const TaskMetadata& a, const TaskMetadata& b) {
      return a.engine_id < b.engine_id;
    });
    for (const TaskMetadata& m : tasks) {
      print_block(out, "stdout", m.engine_id, m.stdout);
      print_block(err, "stderr", m.engine_id, m.stderr);
    }
  } else {
    for (const TaskMetadata& m : tasks) print_block(out, "stdout", m.engine_id, m.stdout);
    for (const TaskMetadata& m : tasks) print_block(err, "stderr", m.engine_id, m.stderr);
  }
  std::fflush(out);
  std::fflush(err);
}

}  // namespace mpiply
