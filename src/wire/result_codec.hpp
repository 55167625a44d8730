#pragma once
// Result messages, both ends: what an engine (or the inline executor) writes, and the check rank 0
// makes before it trusts one. A result is a ResultHeader, then per item a u8 status, a u32
// length and either the value or an error (u8 ErrorKind, ename, evalue).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/wire.hpp>
#include <mpiply/errors.hpp>

namespace mpiply::detail {

// Starts an ok item whose value the caller writes next; end_item fills in its length.
std::size_t begin_item(Writer& w);
void end_item(Writer& w, std::size_t at);
// Drops whatever was written from `at` on and writes an error item there instead.
void write_error_item(Writer& w, std::size_t at, ErrorKind kind, std::string_view ename,
                      std::string_view evalue);
inline void write_error_item(Writer& w, ErrorKind kind, std::string_view ename,
                             std::string_view evalue) {
  write_error_item(w, w.pos(), kind, ename, evalue);
}

// The body of an error item (after its status and length), read from a checked message.
struct ErrorItem {
  ErrorKind kind;
  std::string_view ename, evalue;
};
ErrorItem read_error_item(Reader& body);

// Checks a whole result message before anything in it is used: its size, that it answers msg
// `expect_msg` with `expect_items` items, each item's framing and status, and no bytes left
// over. Fills h when the header could be read. Returns what is wrong, or "" if nothing is.
// A checked result's captured output, if it carries any (wire.hpp).
struct ResultOutput {
  bool present = false;
  std::string_view out, err;
  bool has_data = false;  // the task published data: its encoded DataMap
  std::string_view data;
  std::size_t items_end = 0;  // where the items end in the message (its size if no output)
};

// ... also: output, when given, says where the items end and what output follows them.
std::string check_result(const char* p, std::size_t n, MsgId expect_msg,
                         std::uint32_t expect_items, ResultHeader& h,
                         ResultOutput* output = nullptr);

// Appends a call's captured output after its items.
void write_output(Writer& w, std::string_view out, std::string_view err);

}  // namespace mpiply::detail
