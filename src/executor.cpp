// Runs one task message on an engine: calls, pushes, pulls, clears. A failing item becomes an
// error item in the result; the engine keeps serving.
#include "executor.hpp"

#include <cxxabi.h>

#include <fmt/format.h>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/type_name.hpp>
#include <mpiply/detail/wire.hpp>

#include "clock.hpp"
#include "crash_report.hpp"

namespace mpiply::detail {

namespace {

// Writes one result item: status, length, then what body() writes, or the exception it raised.
template <class Body>
void run_item(Writer& w, Body&& body) {
  std::size_t at = w.pos();
  w.u8(static_cast<std::uint8_t>(ItemStatus::ok));
  w.u32(0);
  std::string ename, evalue;
  try {
    body();
    w.patch<std::uint32_t>(at + 1, static_cast<std::uint32_t>(w.pos() - at - 5));
    return;
  } catch (const std::exception& e) {
    ename = demangle(typeid(e).name());
    evalue = e.what();
  } catch (...) {
    std::type_info* t = abi::__cxa_current_exception_type();
    ename = t ? demangle(t->name()) : "unknown";
    evalue = "(a value that is not a std::exception was thrown)";
  }
  w.truncate(at);
  w.u8(static_cast<std::uint8_t>(ItemStatus::error));
  w.u32(0);
  w.str(ename);
  w.str(evalue);
  w.patch<std::uint32_t>(at + 1, static_cast<std::uint32_t>(w.pos() - at - 5));
}

void run_calls(Engine& eng, const TaskHeader& h, Reader& r, Writer& w) {
  const FunctionEntry* fe = find_by_id(h.fn_id);
  TaskNote note(fe ? fe->name.c_str() : "(unregistered function)", h.msg_id);  // for a crash
  for (std::uint32_t i = 0; i < h.nitems; ++i) {
    Reader item = r.sub(r.u32());
    run_item(w, [&] {
      if (!fe)
        throw UsageError(fmt::format("engine {} has no function with id {:#x}; every rank must "
                                     "register the same functions",
                                     eng.id(), h.fn_id));
      fe->invoke(fe->fn, item, w, eng);
    });
  }
}

// Every entry's segment is read even if an earlier entry failed, so the stream stays in step.
void run_push(Engine& eng, const TaskHeader& h, Reader& r, SegmentFetcher& segs, Writer& w) {
  std::string first_error;
  for (std::uint32_t i = 0; i < h.nitems; ++i) {
    std::string name(r.str());
    std::string type(r.str());
    auto mode = r.u8();
    if (mode == 0) {
      auto n = r.u64();
      const char* p = r.take(n);
      Bytes& dst = eng.store().set_raw(name, type, n);
      std::memcpy(dst.data(), p, n);
    } else {
      auto plen = r.u64();
      const char* prefix = r.take(plen);
      auto slen = r.u64();
      Bytes& dst = eng.store().set_raw(name, type, plen + slen);
      std::memcpy(dst.data(), prefix, plen);
      segs.fetch(dst.data() + plen, slen);
    }
  }
  run_item(w, [] {});
}

void run_pull(Engine& eng, Reader& r, Writer& w) {
  run_item(w, [&] {
    std::string name(r.str());
    auto ntypes = r.count(1);
    std::vector<std::string> types;
    for (std::uint64_t i = 0; i < ntypes; ++i) types.emplace_back(r.str());
    std::size_t at = w.pos();
    w.u8(0);
    std::size_t which = eng.store().encode_for_pull(name, types, w);
    w.patch<std::uint8_t>(at, static_cast<std::uint8_t>(which));
  });
}

}  // namespace

ExecResult execute_task(Engine& eng, const char* msg, std::size_t n, SegmentFetcher& segs,
                        Bytes& out, std::int64_t clock_offset_ns) {
  Reader r(msg, n);
  auto h = r.pod<TaskHeader>();
  if (h.kind == Kind::stop) return {true, static_cast<int>(static_cast<std::int64_t>(h.fn_id))};
  out.clear();
  Writer w(out);
  ResultHeader rh{};
  rh.msg_id = h.msg_id;
  rh.nitems = h.kind == Kind::call ? h.nitems : 1;
  w.pod(rh);
  std::int64_t started = now_ns() - clock_offset_ns;
  CurrentEngine guard(eng);
  switch (h.kind) {
    case Kind::call:
      run_calls(eng, h, r, w);
      break;
    case Kind::push:
      run_push(eng, h, r, segs, w);
      break;
    case Kind::pull:
      run_pull(eng, r, w);
      break;
    case Kind::clear:
      eng.store().clear();
      run_item(w, [] {});
      break;
    default:
      throw DecodeError(fmt::format("engine {}: unknown task kind {}", eng.id(),
                                    static_cast<int>(h.kind)));
  }
  std::int64_t completed = now_ns() - clock_offset_ns;
  w.patch(offsetof(ResultHeader, started_ns), started);
  w.patch(offsetof(ResultHeader, completed_ns), completed);
  return {};
}

}  // namespace mpiply::detail
