// Writes the seed corpus of the fuzz targets: valid messages of every kind, so that the fuzzer
// starts from inputs that reach deep into the decoders instead of failing at the first header.
//   fuzz_make_corpus <dir>    writes <dir>/executor/*, <dir>/result/* and <dir>/bundle/*
// The checked-in tests/fuzz/corpus was made with it; run it again when the wire format changes.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <mpiply/mpiply.hpp>
#include <mpiply/detail/boost_codec.hpp>
#include <mpiply/detail/sources.hpp>
#include <mpiply/detail/type_name.hpp>
#include <mpiply/detail/wire.hpp>

#include "executor/executor.hpp"
#include "fuzz_functions.hpp"
#include "wire/bundle.hpp"
#include "wire/result_codec.hpp"

namespace {

namespace d = mpiply::detail;
namespace fs = std::filesystem;
using namespace mpiply_fuzz;

fs::path g_dir;

void save(const std::string& target, const std::string& name, const d::Bytes& b) {
  fs::create_directories(g_dir / target);
  std::ofstream f(g_dir / target / name, std::ios::binary);
  f.write(b.data(), static_cast<std::streamsize>(b.size()));
}

// ---- executor inputs: a flags byte, then u32-framed task messages ----

struct ExecInput {
  d::Bytes b;
  explicit ExecInput(std::uint8_t flags) { d::Writer(b).u8(flags); }
  void add(const d::Bytes& msg) {
    d::Writer w(b);
    w.u32(static_cast<std::uint32_t>(msg.size()));
    w.raw(msg.data(), msg.size());
  }
};

std::uint64_t g_msg = 100;

template <class F>
d::Bytes header(d::Kind kind, std::uint32_t n, F* fn) {
  d::Bytes m;
  d::Writer w(m);
  d::write_header(w, kind, n, fn ? d::entry_of(fn).id : 0);
  w.patch(offsetof(d::TaskHeader, msg_id), g_msg++);
  return m;
}
d::Bytes header(d::Kind kind, std::uint32_t n) { return header<void()>(kind, n, nullptr); }

// A call message of F with one item per argument tuple.
template <class F, class... Tuples>
d::Bytes call(F* fn, const Tuples&... items) {
  d::Bytes m = header(d::Kind::call, sizeof...(items), fn);
  d::Writer w(m);
  (std::apply([&](const auto&... a) { d::encode_call<F*>(w, a...); }, items), ...);
  return m;
}

// A push entry inline (mode 0) or with the value's bytes after the first `prefix` as a segment.
template <class T>
void push_entry(d::Writer& w, const std::string& name, const T& v, bool segment = false) {
  d::Bytes val;
  d::Writer vw(val);
  d::Codec<T>::encode(vw, v);
  w.str(name);
  w.str(d::type_tag<T>());
  w.u8(segment ? 1 : 0);
  std::size_t prefix = segment ? 8 : val.size();
  w.u64(prefix);
  w.raw(val.data(), prefix);
  if (segment) w.u64(val.size() - prefix);
}

d::Bytes pull(const std::string& name, const std::vector<std::string>& tags) {
  d::Bytes m = header(d::Kind::pull, 1);
  d::Writer w(m);
  w.str(name);
  w.u64(tags.size());
  for (const auto& t : tags) w.str(t);
  return m;
}

void executor_seeds() {
  {
    ExecInput in(0);
    in.add(call(&fz_twice, std::tuple{1}, std::tuple{-7}, std::tuple{1 << 30}));
    save("executor", "call-twice", in.b);
  }
  {
    ExecInput in(0);
    in.add(call(&fz_sum, std::tuple{std::vector<double>{1.5, 2.5, -1}}));
    in.add(call(&fz_join, std::tuple{std::string(", "), std::vector<std::string>{"a", "bc", ""}}));
    in.add(call(&fz_count, std::tuple{std::vector<std::string>{"x", "y", "x"}}));
    save("executor", "call-containers", in.b);
  }
  {
    ExecInput in(0);
    in.add(call(&fz_half, std::tuple{std::optional<std::string>("nine")},
                    std::tuple{std::optional<std::string>()}));
    in.add(call(&fz_tuple, std::make_tuple(std::pair<int, std::string>(3, "three"))));
    in.add(call(&fz_point, std::tuple{FzPoint{4, "p"}}));
    save("executor", "call-optional-tuple-boost", in.b);
  }
  {
    ExecInput in(0);
    in.add(call(&fz_throw, std::tuple{2}, std::tuple{3}));
    in.add(call(&fz_bytes, std::tuple{100}));
    in.add(call(&fz_load, std::tuple{std::string("missing")}));
    save("executor", "call-errors", in.b);
  }
  {
    // A value set by a task, read by a task by value and by Reference, then pulled.
    ExecInput in(0);
    in.add(call(&fz_store, std::tuple{std::string("k"), 41}));
    in.add(call(&fz_load, std::tuple{std::string("k")}));
    in.add(call(&fz_twice, std::tuple{mpiply::Reference<int>("k")}));
    in.add(pull("k", {d::type_tag<double>(), d::type_tag<int>()}));
    save("executor", "store-load-pull", in.b);
  }
  {
    // Pushed values (inline and with a segment), used through a list of References, pulled,
    // then cleared.
    ExecInput in(1);
    d::Bytes m = header(d::Kind::push, 4);
    d::Writer w(m);
    push_entry(w, "a", 1.25);
    push_entry(w, "b", 2.5);
    push_entry(w, "v", std::vector<double>(6, 0.5), true);
    push_entry(w, "s", std::string("text"));
    in.add(m);
    d::Bytes c = header(d::Kind::call, 1, &fz_sum);
    d::Writer cw(c);
    std::size_t at = cw.pos();
    cw.u32(0);
    cw.u8(static_cast<std::uint8_t>(d::ArgTag::reference_list));
    cw.u64(2);
    cw.str("a");
    cw.str("b");
    cw.patch<std::uint32_t>(at, static_cast<std::uint32_t>(cw.pos() - at - 4));
    in.add(c);
    in.add(call(&fz_sum, std::tuple{mpiply::Reference<std::vector<double>>("v")}));
    in.add(pull("v", {d::type_tag<std::vector<double>>()}));
    in.add(pull("s", {d::type_tag<std::string>()}));
    in.add(header(d::Kind::clear, 1));
    in.add(pull("s", {d::type_tag<std::string>()}));
    save("executor", "push-reference-pull-clear", in.b);
  }
  {
    ExecInput in(0);
    in.add(header(d::Kind::stop, 0));
    in.add(call(&fz_twice, std::tuple{5}));
    save("executor", "stop-then-call", in.b);
  }
}

// ---- result inputs: a state selector, an item count byte (k - 1), then a result message ----

struct ResultInput {
  d::Bytes b;
  d::Writer w{b};
  std::size_t nitems_at = 0;
  std::uint32_t k = 0;
  explicit ResultInput(std::uint8_t which) {
    w.u8(which);
    w.u8(0);  // patched by finish
    d::ResultHeader h{};
    h.msg_id = 0;  // XORed with the expected id by the target
    h.started_ns = 1'000;
    h.completed_ns = 2'000;
    nitems_at = w.pos() + offsetof(d::ResultHeader, nitems);
    w.pod(h);
  }
  template <class V>
  void ok(const V& v) {
    std::size_t at = d::begin_item(w);
    d::Codec<V>::encode(w, v);
    d::end_item(w, at);
    ++k;
  }
  template <class V>
  void tagged(std::uint8_t tag, const V& v) {  // pull and gather items: u8 then the value
    std::size_t at = d::begin_item(w);
    w.u8(tag);
    d::Codec<V>::encode(w, v);
    d::end_item(w, at);
    ++k;
  }
  void error(mpiply::ErrorKind kind) {
    d::write_error_item(w, kind, "std::runtime_error", "it went wrong");
    ++k;
  }
  const d::Bytes& finish() {
    w.patch<std::uint32_t>(nitems_at, k);
    w.patch<std::uint8_t>(1, static_cast<std::uint8_t>(k - 1));
    return b;
  }
};

void result_seeds() {
  {
    ResultInput r(0);
    r.ok(2);
    r.ok(-4);
    r.error(mpiply::ErrorKind::raised);
    save("result", "int-3", r.finish());
  }
  {
    ResultInput r(1);
    r.ok(std::string("hello"));
    save("result", "string-1", r.finish());
  }
  {
    ResultInput r(2);
    r.ok(std::vector<double>{1, 2, 3});
    r.ok(std::vector<double>{});
    save("result", "vector-double-2", r.finish());
  }
  {
    ResultInput r(3);
    r.ok(std::map<std::string, std::vector<int>>{{"a", {1, 2}}, {"b", {}}});
    r.error(mpiply::ErrorKind::decode);
    save("result", "map-2", r.finish());
  }
  {
    ResultInput r(4);
    r.ok(std::optional<std::tuple<int, std::string>>(std::tuple{7, std::string("seven")}));
    r.ok(std::optional<std::tuple<int, std::string>>());
    save("result", "optional-tuple-2", r.finish());
  }
  {
    ResultInput r(5);
    r.ok(FzPoint{3, "three"});
    save("result", "boost-1", r.finish());
  }
  {
    ResultInput r(6);
    r.tagged(0, std::vector<std::string>{"x", "yz"});
    save("result", "pull-1", r.finish());
  }
  {
    ResultInput r(7);
    r.tagged(0, std::vector<int>{1, 2, 3});
    r.tagged(1, 4);
    r.error(mpiply::ErrorKind::message_too_large);
    save("result", "gather-3", r.finish());
  }
  {
    ResultInput r(8);
    r.ok(mpiply::None{});
    r.ok(mpiply::None{});
    save("result", "none-2", r.finish());
  }
  {
    // A real answer: the executor's own result for a chunk of fz_twice calls.
    mpiply::Engine eng(0, 0, "seed");
    d::Bytes msg = call(&fz_twice, std::tuple{1}, std::tuple{2}, std::tuple{3}, std::tuple{4});
    struct None : d::SegmentFetcher {
      void fetch(char*, std::size_t) override { throw mpiply::ValueDecodeError("no segments"); }
    } segs;
    d::Bytes out;
    d::execute_task(eng, msg.data(), msg.size(), segs, out, 0);
    d::ResultHeader h;
    std::memcpy(&h, out.data(), sizeof h);
    h.msg_id = 0;
    std::memcpy(out.data(), &h, sizeof h);
    d::Bytes in;
    d::Writer w(in);
    w.u8(0);
    w.u8(static_cast<std::uint8_t>(h.nitems - 1));
    w.raw(out.data(), out.size());
    save("result", "executor-int-4", in);
  }
}

// ---- bundle inputs: bundles as received ----

void bundle_seeds() {
  d::Bytes b;
  d::BundleWriter w(b);
  std::string small(40, 'a'), odd(13, 'b'), empty;
  w.begin(d::kBundleHoldResults);
  w.add({small.data(), small.size()});
  w.add({odd.data(), odd.size()});
  save("bundle", "hold-2", b);
  w.begin(0);
  for (int i = 0; i < 5; ++i) w.add({odd.data(), odd.size()});
  w.add({empty.data(), empty.size()});
  save("bundle", "mixed-6", b);
  w.begin(0);
  std::string big(3000, 'c');
  w.add({big.data(), big.size()});
  save("bundle", "one-3000", b);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  g_dir = argv[1];
  executor_seeds();
  result_seeds();
  bundle_seeds();
  std::printf("seeds written under %s\n", g_dir.c_str());
  return 0;
}
