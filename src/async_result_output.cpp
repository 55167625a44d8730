// AsyncResultBase's captured outputs: stdout(), stderr() and display_outputs() (docs/output.md).
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include <mpiply/async_result.hpp>
#include <mpiply/errors.hpp>

namespace mpiply {

namespace {

// One block as ipyparallel prints it: "[stdout:0] text"; a text of several lines starts on the
// line after the prefix, and a block always ends with a newline.
void print_block(std::FILE* f, const char* stream, int engine, const std::string& text) {
  if (text.empty()) return;
  bool ends_nl = text.back() == '\n';
  auto lines = std::count(text.begin(), text.end(), '\n');
  bool multiline = lines > (ends_nl ? 1 : 0);
  std::string prefix = fmt::format("[{}:{}] ", stream, engine);
  if (multiline && text.front() != '\n') prefix += '\n';
  std::fputs(prefix.c_str(), f);
  std::fwrite(text.data(), 1, text.size(), f);
  if (!ends_nl) std::fputc('\n', f);
}

}  // namespace

std::vector<std::string> AsyncResultBase::stdout() const {
  std::vector<std::string> out;
  for (TaskMetadata& m : metadata()) out.push_back(std::move(m.stdout));
  return out;
}

std::vector<std::string> AsyncResultBase::stderr() const {
  std::vector<std::string> out;
  for (TaskMetadata& m : metadata()) out.push_back(std::move(m.stderr));
  return out;
}

void AsyncResultBase::display_outputs(const std::string& groupby, std::FILE* out,
                                      std::FILE* err) const {
  if (groupby != "type" && groupby != "engine" && groupby != "order")
    throw UsageError(fmt::format("display_outputs: groupby is '{}'; use \"type\", \"engine\" or "
                                 "\"order\"",
                                 groupby));
  std::vector<TaskMetadata> tasks = metadata();
  if (groupby == "engine") {
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
