// Messages of the error types: what happened, where, and what to do.
#include <mpiply/errors.hpp>
#include <mpiply/metadata.hpp>

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <iostream>

#include <fmt/format.h>

namespace mpiply {

namespace {
std::string mpi_message(const std::string& routine, int code) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = 0;
  return fmt::format("{} failed with MPI error {}: {}", routine, code, std::string(text, len));
}
}  // namespace

MpiError::MpiError(const std::string& routine, int code)
    : Error(mpi_message(routine, code)), routine_(routine), code_(code) {}

RemoteError::RemoteError(int engine_id, std::string hostname, std::string function, MsgId msg_id,
                         std::string ename, std::string evalue, ErrorKind kind)
    : Error(fmt::format("{}: {} [engine {} on {}, function {}, msg id {}]", ename, evalue,
                        engine_id, hostname, function, msg_id)),
      engine_id_(engine_id),
      hostname_(std::move(hostname)),
      function_(std::move(function)),
      msg_id_(msg_id),
      ename_(std::move(ename)),
      evalue_(std::move(evalue)),
      kind_(kind) {}

RemoteError::RemoteError(const RemoteError& base, ErrorKind kind) : RemoteError(base) {
  kind_ = kind;
}

void RemoteError::raise() const {
  switch (kind_) {
    case ErrorKind::message_too_large: throw MessageTooLarge(*this);
    case ErrorKind::encode: throw EncodeError(*this);
    case ErrorKind::decode: throw MessageDecodeError(*this);
    case ErrorKind::aborted: throw TaskAborted(*this);
    case ErrorKind::crashed: throw TaskCrashed(*this);
    case ErrorKind::time_limit: throw TaskTimeout(*this);
    case ErrorKind::impossible_dependency: throw ImpossibleDependency(*this);
    case ErrorKind::dependency_timeout: throw DependencyTimeout(*this);
    case ErrorKind::raised: break;
  }
  throw RemoteError(*this, ErrorKind::raised);
}

const char* error_type_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::raised: return "mpiply::RemoteError";
    case ErrorKind::message_too_large: return "mpiply::MessageTooLarge";
    case ErrorKind::encode: return "mpiply::EncodeError";
    case ErrorKind::decode: return "mpiply::MessageDecodeError";
    case ErrorKind::aborted: return "mpiply::TaskAborted";
    case ErrorKind::crashed: return "mpiply::TaskCrashed";
    case ErrorKind::time_limit: return "mpiply::TaskTimeout";
    case ErrorKind::impossible_dependency: return "mpiply::ImpossibleDependency";
    case ErrorKind::dependency_timeout: return "mpiply::DependencyTimeout";
  }
  return "mpiply::RemoteError";
}

namespace {
std::atomic<std::size_t> g_default_tb_limit{CompositeError::kDefaultTbLimit};

// One failure's block: a header line, then "ename: evalue" split at its newlines.
void append_block(std::vector<std::string>& lines, const CompositeError::Item& it) {
  const RemoteError& e = it.error;
  lines.push_back(fmt::format("[{}:{}] item {}, msg id {}, host {}", e.engine_id(), e.function(),
                              it.index, e.msg_id(), e.hostname()));
  std::string text = e.ename() + ": " + e.evalue();
  std::size_t start = 0;
  while (true) {
    std::size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

std::string more_line(std::size_t n) {
  return fmt::format("... {} more exception{} ...", n, n == 1 ? "" : "s");
}

std::vector<std::string> render_all(const std::vector<CompositeError::Item>& items,
                                    std::size_t limit) {
  std::vector<std::string> lines;
  const std::size_t shown = std::min(limit, items.size());
  for (std::size_t i = 0; i < shown; ++i) append_block(lines, items[i]);
  if (items.size() > shown) lines.push_back(more_line(items.size() - shown));
  return lines;
}

std::string composite_message(const std::vector<CompositeError::Item>& items, std::size_t total,
                              std::size_t limit) {
  std::string s = fmt::format("{} of {} items raised", items.size(), total);
  const std::size_t shown = std::min(limit, items.size());
  for (std::size_t i = 0; i < shown; ++i)
    s += fmt::format("\n  item {}: {}", items[i].index, items[i].error.what());
  if (items.size() > shown)
    s += fmt::format("\n  {} (CompositeError::errors() has them all)",
                     more_line(items.size() - shown));
  return s;
}

void print_lines(const std::vector<std::string>& lines, std::ostream& out) {
  for (const auto& l : lines) out << l << '\n';
  out.flush();
}
}  // namespace

CompositeError::CompositeError(std::vector<Item> items, std::size_t total)
    : Error(composite_message(items, total, default_tb_limit())),
      items_(std::move(items)),
      total_(total),
      tb_limit_(default_tb_limit()) {}

void CompositeError::raise_exception(std::size_t i) const {
  if (i >= items_.size())
    throw UsageError(fmt::format("raise_exception({}): there are only {} errors", i, items_.size()));
  items_[i].error.raise();
}

void CompositeError::set_default_tb_limit(std::size_t n) noexcept { g_default_tb_limit = n; }
std::size_t CompositeError::default_tb_limit() noexcept { return g_default_tb_limit; }

std::vector<std::string> CompositeError::render_traceback() const {
  return render_all(items_, tb_limit_);
}

std::vector<std::string> CompositeError::render_traceback(std::size_t excid) const {
  if (excid >= items_.size())
    throw UsageError(fmt::format(
        "render_traceback({}): this CompositeError holds {} errors (excid 0 to {}); call it "
        "without excid for all of them",
        excid, items_.size(), items_.empty() ? 0 : items_.size() - 1));
  std::vector<std::string> lines;
  append_block(lines, items_[excid]);
  return lines;
}

void CompositeError::print_traceback() const { print_traceback(std::cout); }
void CompositeError::print_traceback(std::ostream& out) const {
  print_lines(render_traceback(), out);
}
void CompositeError::print_traceback(std::size_t excid) const {
  print_traceback(excid, std::cout);
}
void CompositeError::print_traceback(std::size_t excid, std::ostream& out) const {
  print_lines(render_traceback(excid), out);
}

const char* to_string(TaskStatus s) noexcept {
  switch (s) {
    case TaskStatus::queued: return "queued";
    case TaskStatus::sent: return "sent";
    case TaskStatus::ok: return "ok";
    case TaskStatus::error: return "error";
    case TaskStatus::aborted: return "aborted";
  }
  return "unknown";
}

}  // namespace mpiply
