// A task of an earlier run read back from the task database (db_result.hpp): naming it
// (RecordId), checking the type asked for, and decoding its stored result items into a result
// state with the same rules as a live result.
#include <mpiply/db_result.hpp>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/wire.hpp>

#include "wire/result_codec.hpp"

namespace mpiply {

RecordId RecordId::parse(std::string_view text) {
  auto bad = [&]() -> RecordId {
    throw UsageError(fmt::format("'{}' is not a task database record id; write RUN:MSG with "
                                 "two non-negative integers, e.g. \"2:17\" (run 2, msg id 17; "
                                 "rc.hub_history(mpiply::all_runs) lists them)",
                                 text));
  };
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return bad();
  RecordId id;
  const char* end = text.data() + colon;
  auto r1 = std::from_chars(text.data(), end, id.run);
  if (r1.ec != std::errc() || r1.ptr != end || id.run < 0) return bad();
  const char* end2 = text.data() + text.size();
  auto r2 = std::from_chars(end + 1, end2, id.msg_id);
  if (r2.ec != std::errc() || r2.ptr != end2) return bad();
  return id;
}

std::string to_string(const RecordId& id) { return fmt::format("{}:{}", id.run, id.msg_id); }

namespace detail {

namespace {

// The names of the tasks that call no registered function (their metadata's function).
bool is_data_task(std::string_view name) {
  for (std::string_view n : {"", "push", "pull", "scatter", "gather", "clear", "pull_into",
                             "gather_into"})
    if (name == n) return true;
  return false;
}

ErrorKind kind_of(std::string_view ename) {
  for (std::uint8_t k = 0; k < kErrorKindCount; ++k)
    if (ename == error_type_name(static_cast<ErrorKind>(k)) && k != 0)
      return static_cast<ErrorKind>(k);
  return ErrorKind::raised;
}

}  // namespace

void check_db_value_type(const DbRecordData& d, const std::string& type, const char* what) {
  if (d.type.empty())
    throw UsageError(fmt::format(
        "{}: record {} is not a call of a registered function ({}); the task database does not "
        "record the type of its values, so they cannot be read back",
        what, to_string(d.id),
        !is_data_task(d.meta.function)
            ? fmt::format("'{}' is not registered in this program", d.meta.function)
            : d.meta.function.empty() ? std::string("a push, pull or clear")
                                      : fmt::format("a {}", d.meta.function)));
  if (d.type != type)
    throw UsageError(fmt::format("{}: record {} ('{}') holds values of type {}, not {}; ask for "
                                 "get<{}>",
                                 what, to_string(d.id), d.meta.function, d.type, type, d.type));
}

void fill_db_state(ResultStateBase& st, const DbRecordData& d) {
  const TaskMetadata& m = d.meta;
  auto fail_all = [&](ErrorKind kind, std::string ename, std::string evalue) {
    for (std::size_t i = 0; i < st.nitems; ++i)
      if (st.item_state[i] == ItemState::pending)
        st.item_failed(i, RemoteError(m.engine_id, m.hostname, m.function, m.msg_id, ename,
                                      evalue, kind));
  };
  if (d.bytes.empty() && m.status != TaskStatus::ok) {
    // Failed on rank 0 (never sent, aborted, not run, malformed): only the text was kept.
    auto colon = m.error.find(": ");
    std::string ename = colon == std::string::npos ? std::string("mpiply::RemoteError")
                                                   : m.error.substr(0, colon);
    std::string evalue = colon == std::string::npos ? m.error : m.error.substr(colon + 2);
    fail_all(kind_of(ename), ename, evalue);
    return;
  }
  try {
    Reader r(d.bytes.data(), d.bytes.size());
    for (std::size_t i = 0; i < st.nitems; ++i) {
      auto status = static_cast<ItemStatus>(r.u8());
      Reader item = r.sub(r.u32());
      if (status == ItemStatus::ok) {
        try {
          st.store_value(i, item);
          st.item_ok(i);
        } catch (const std::exception& ex) {
          st.item_failed(i, RemoteError(m.engine_id, m.hostname, m.function, m.msg_id,
                                        error_type_name(ErrorKind::decode),
                                        fmt::format("the stored result did not decode: {}",
                                                    ex.what()),
                                        ErrorKind::decode));
        }
      } else {
        ErrorItem err = read_error_item(item);
        st.item_failed(i, RemoteError(m.engine_id, m.hostname, m.function, m.msg_id,
                                      std::string(err.ename), std::string(err.evalue), err.kind));
      }
    }
  } catch (const std::exception& ex) {
    // A damaged record fails its remaining items, as a malformed live result would.
    fail_all(ErrorKind::decode, error_type_name(ErrorKind::decode),
             fmt::format("record {} in the task database is malformed: {}", to_string(d.id),
                         ex.what()));
  }
}

void throw_db_errors(const ResultStateBase& st) {
  auto errs = st.errors;
  std::sort(errs.begin(), errs.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  throw CompositeError(std::move(errs), st.nitems);
}

}  // namespace detail
}  // namespace mpiply
