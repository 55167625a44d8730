// Messages of the error types: what happened, where, and what to do.
#include <mpiply/errors.hpp>
#include <mpiply/metadata.hpp>

#include <mpi.h>

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
    : Error(mpi_message(routine, code)), code_(code) {}

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
std::string composite_message(const std::vector<CompositeError::Item>& items, std::size_t total) {
  std::string s = fmt::format("{} of {} items raised", items.size(), total);
  std::size_t shown = 0;
  for (const auto& it : items) {
    if (shown++ == 5) {
      s += fmt::format("\n  ... and {} more (CompositeError::errors() has them all)",
                       items.size() - 5);
      break;
    }
    s += fmt::format("\n  item {}: {}", it.index, it.error.what());
  }
  return s;
}
}  // namespace

CompositeError::CompositeError(std::vector<Item> items, std::size_t total)
    : Error(composite_message(items, total)), items_(std::move(items)) {}

void CompositeError::raise_exception(std::size_t i) const {
  if (i >= items_.size())
    throw UsageError(fmt::format("raise_exception({}): there are only {} errors", i, items_.size()));
  items_[i].error.raise();
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
