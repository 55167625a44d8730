// publish_data and the DataMap encoding (published_data.hpp).
#include "executor/published_data.hpp"

#include <cstring>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

namespace {

thread_local TaskData* t_task = nullptr;
bool g_publish_live = false;
std::mutex g_publish_mu;
std::map<std::uint64_t, std::string> g_pending;  // msg id -> its latest encoded map

enum : std::uint8_t { kBool = 0, kInt = 1, kDouble = 2, kString = 3, kDoubles = 4 };

}  // namespace

void encode_data(Writer& w, const DataMap& m) {
  w.u64(m.size());
  for (const auto& [key, v] : m) {
    w.str(key);
    w.u8(static_cast<std::uint8_t>(v.index()));
    switch (v.index()) {
      case kBool: w.u8(std::get<bool>(v) ? 1 : 0); break;
      case kInt: w.pod(std::get<std::int64_t>(v)); break;
      case kDouble: w.pod(std::get<double>(v)); break;
      case kString: w.str(std::get<std::string>(v)); break;
      default: {
        const auto& d = std::get<std::vector<double>>(v);
        w.u64(d.size());
        w.raw(d.data(), d.size() * sizeof(double));
      }
    }
  }
}

DataMap decode_data(std::string_view bytes) {
  Reader r(bytes.data(), bytes.size());
  DataMap m;
  auto n = r.count(10);  // a key (u64 length) and a type byte at least
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string key(r.str());
    switch (r.u8()) {
      case kBool: m[key] = r.u8() != 0; break;
      case kInt: m[key] = r.pod<std::int64_t>(); break;
      case kDouble: m[key] = r.pod<double>(); break;
      case kString: m[key] = std::string(r.str()); break;
      case kDoubles: {
        auto k = r.count(sizeof(double));
        std::vector<double> d(k);
        if (k) std::memcpy(d.data(), r.take(k * sizeof(double)), k * sizeof(double));
        m[key] = std::move(d);
        break;
      }
      default: throw ValueDecodeError(fmt::format("published value '{}' has an unknown type", key));
    }
  }
  if (r.remaining() != 0)
    throw ValueDecodeError(fmt::format("{} bytes follow the published data", r.remaining()));
  return m;
}

TaskData::TaskData(std::uint64_t msg) : prev_(t_task), msg_(msg) { t_task = this; }

TaskData::~TaskData() {
  t_task = prev_;
  if (published_ && g_publish_live) {
    std::lock_guard lk(g_publish_mu);
    g_pending.erase(msg_);  // its result carries the map now
  }
}

std::string TaskData::encoded() const {
  if (!published_) return {};
  Bytes b;
  Writer w(b);
  encode_data(w, map_);
  return std::string(b.data(), b.size());
}

std::vector<std::pair<std::uint64_t, std::string>> take_live_data() {
  std::lock_guard lk(g_publish_mu);
  std::vector<std::pair<std::uint64_t, std::string>> out(g_pending.begin(), g_pending.end());
  g_pending.clear();
  return out;
}

void set_live_data(bool on) noexcept { g_publish_live = on; }
bool live_data() noexcept { return g_publish_live; }

}  // namespace mpiply::detail

namespace mpiply {

void publish_data(const DataMap& values) {
  detail::TaskData* t = detail::t_task;
  if (!t)
    throw UsageError("mpiply::publish_data was called outside a task: call it from a function "
                     "running as a task on an engine (not from client_main, nor from a thread "
                     "the task started)");
  for (const auto& [k, v] : values) t->map_[k] = v;
  t->published_ = true;
  if (detail::g_publish_live) {
    std::string enc = t->encoded();
    std::lock_guard lk(detail::g_publish_mu);
    detail::g_pending[t->msg_] = std::move(enc);
  }
}

}  // namespace mpiply
