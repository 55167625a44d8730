// Writing and checking result messages (see result_codec.hpp for the layout).
#include "wire/result_codec.hpp"

#include <fmt/format.h>

namespace mpiply::detail {

std::size_t begin_item(Writer& w) {
  std::size_t at = w.pos();
  w.u8(static_cast<std::uint8_t>(ItemStatus::ok));
  w.u32(0);
  return at;
}

void end_item(Writer& w, std::size_t at) {
  w.patch<std::uint32_t>(at + 1, static_cast<std::uint32_t>(w.pos() - at - 5));
}

void write_error_item(Writer& w, std::size_t at, ErrorKind kind, std::string_view ename,
                      std::string_view evalue) {
  w.truncate(at);
  w.u8(static_cast<std::uint8_t>(ItemStatus::error));
  w.u32(0);
  w.u8(static_cast<std::uint8_t>(kind));
  w.str(ename);
  w.str(evalue);
  end_item(w, at);
}

ErrorItem read_error_item(Reader& body) {
  std::uint8_t kind = body.u8();
  if (kind >= kErrorKindCount)
    throw ValueDecodeError(fmt::format("an error item has kind {}, which no mpiply error has", kind));
  ErrorItem e{static_cast<ErrorKind>(kind), {}, {}};
  e.ename = body.str();
  e.evalue = body.str();
  return e;
}

namespace {

// Walks every item; the first error item's text goes into first_error (it often says why).
void check_items(Reader& r, std::uint32_t nitems, std::string& first_error, ResultOutput& o) {
  // Each item is at least a status byte and a length: a corrupt count fails here, not in a loop
  // over four billion items.
  if (nitems > r.remaining() / 5)
    throw ValueDecodeError(fmt::format("it claims {} items in {} bytes", nitems, r.remaining()));
  for (std::uint32_t i = 0; i < nitems; ++i) {
    auto status = r.u8();
    Reader body = r.sub(r.u32());
    if (status == static_cast<std::uint8_t>(ItemStatus::ok)) continue;
    if (status != static_cast<std::uint8_t>(ItemStatus::error))
      throw ValueDecodeError(fmt::format("item {} has status {}, neither ok nor error", i, status));
    ErrorItem e = read_error_item(body);
    if (body.remaining() != 0)
      throw ValueDecodeError(fmt::format("error item {} has {} bytes after its text", i,
                                    body.remaining()));
    if (first_error.empty()) first_error = fmt::format("{}: {}", e.ename, e.evalue);
  }
  o.items_end -= r.remaining();  // it held the message's size
  if (r.remaining() == 0) return;
  // The captured output: exactly two strings, nothing after them.
  std::size_t left = r.remaining();
  try {
    o.out = r.str();
    o.err = r.str();
  } catch (const ValueDecodeError&) {
    throw ValueDecodeError(fmt::format("{} bytes follow the last item, which are not the task's "
                                  "output (two strings)",
                                  left));
  }
  o.present = true;
  if (r.remaining() == 0) return;
  // The data the task published (publish_data): one more string, nothing after it.
  left = r.remaining();
  try {
    o.data = r.str();
  } catch (const ValueDecodeError&) {
    throw ValueDecodeError(fmt::format("{} bytes follow the task's output, which are not its "
                                  "published data (a string)",
                                  left));
  }
  o.has_data = true;
  if (r.remaining() != 0)
    throw ValueDecodeError(fmt::format("{} bytes follow the task's published data", r.remaining()));
}

}  // namespace

void write_output(Writer& w, std::string_view out, std::string_view err) {
  w.str(out);
  w.str(err);
}

std::string check_result(const char* p, std::size_t n, MsgId expect_msg,
                         std::uint32_t expect_items, ResultHeader& h, ResultOutput* output) {
  if (n < sizeof(ResultHeader))
    return fmt::format("the message is {} bytes, shorter than a result header ({} bytes)", n,
                       sizeof(ResultHeader));
  Reader r(p, n);
  h = r.pod<ResultHeader>();
  std::string first_error, broken;
  ResultOutput scratch;
  ResultOutput& o = output ? *output : scratch;
  o = {};
  o.items_end = n;
  try {
    check_items(r, h.nitems, first_error, o);
  } catch (const std::exception& ex) {
    broken = ex.what();
  }
  std::string why;
  if (h.msg_id != expect_msg)
    why = fmt::format("it answers msg {} while msg {} was expected", h.msg_id, expect_msg);
  else if (h.nitems != expect_items)
    why = fmt::format("it carries {} items for a task of {}", h.nitems, expect_items);
  else if (!broken.empty())
    why = broken;
  else
    return {};
  // What the engine said, when it said anything readable: often the reason for the mismatch
  // (an engine answers a task it cannot read with one error item).
  if (!first_error.empty()) why += fmt::format("; the engine reported: {}", first_error);
  return why;
}

}  // namespace mpiply::detail
