#pragma once
// One engine's namespace: named values pushed by the client or set by tasks. A pushed value is
// kept as its encoded bytes and decoded on first typed use; a value set by a task is kept as the
// object and encoded only when pulled. Types are checked by tag on every access.
//
// Tasks running at once on one engine (MPIPLY_ENGINE_THREADS > 1) share it: every member takes
// the store's mutex, so lookups, sets and erases of different names never race. get() returns a
// reference into the entry, read after the lock is released: a name must not be set again or
// erased while other tasks may still read it (entries of other names never move).
#include <any>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mpiply/detail/bytes.hpp>
#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/type_name.hpp>

namespace mpiply::detail {

class NamespaceStore {
 public:
  struct Entry {
    std::string type;  // type_tag<T>()
    Bytes raw;         // encoded value, valid when has_raw
    bool has_raw = false;
    std::any value;    // decoded value, once used
    void (*encode_any)(const std::any&, Writer&) = nullptr;
    // The elements' bytes of a decoded std::vector of bitwise elements (pull_into), else null.
    std::span<const char> (*view_any)(const std::any&) = nullptr;
  };

  explicit NamespaceStore(int engine_id) : engine_id_(engine_id) {}

  template <class T>
  const T& get(std::string_view name) {
    std::lock_guard lk(mu_);
    Entry& e = find(name, type_tag<T>(), type_name<T>());
    if (!e.value.has_value()) {
      Reader r(e.raw.data(), e.raw.size());
      e.value = Codec<T>::decode(r);
      e.encode_any = &encode_as<T>;
      e.view_any = view_fn<T>();
      // The bytes are no longer needed; pulling re-encodes from the object.
      e.raw = Bytes();
      e.has_raw = false;
    }
    return *std::any_cast<T>(&e.value);
  }

  template <class T>
  void set(std::string name, T value) {
    std::lock_guard lk(mu_);
    Entry& e = slot(std::move(name));
    e.type = type_tag<T>();
    e.raw = Bytes();
    e.has_raw = false;
    e.value = std::move(value);
    e.encode_any = &encode_as<T>;
    e.view_any = view_fn<T>();
    changed();
  }

  // Stores encoded bytes received from the client. Reuses the old buffer of that name when the
  // new value fits, so repeated pushes of one array land in warm memory. The caller fills the
  // buffer without the lock: engines run pushes only while no task runs (engine_workers.cpp).
  Bytes& set_raw(const std::string& name, std::string_view type, std::size_t size);

  bool contains(std::string_view name) const {
    std::lock_guard lk(mu_);
    return entries_.find(name) != entries_.end();
  }
  bool erase(std::string_view name);
  void clear() {
    std::lock_guard lk(mu_);
    entries_.clear();
    changed();
  }
  // Counts the changes of names and values (set, set_raw, erase, clear; not first decodes). An
  // engine's worker process holds a copy of the namespace: it is replaced once this moves on.
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  std::vector<std::string> names() const {
    std::lock_guard lk(mu_);
    return names_locked();
  }
  std::string type_of(std::string_view name) const;

  // For pull: writes the encoded value of name into w if its type is one of types, returning the
  // index of the matching type; otherwise throws an error naming the engine, the name and the fix.
  std::size_t encode_for_pull(std::string_view name, const std::vector<std::string>& types,
                              Writer& w);
  // For pull_into: when name holds a value of type `type` that is a std::vector of elem-byte
  // bitwise elements, its elements' bytes (valid until the name changes). False otherwise: the
  // caller then pulls as usual, which reports a missing name or another type.
  bool view_for_pull(std::string_view name, std::string_view type, std::size_t elem,
                     std::span<const char>& view);

 private:
  template <class T>
  struct BitwiseVector : std::false_type {};
  template <class U>
  struct BitwiseVector<std::vector<U>> : std::bool_constant<Bitwise<U> && !std::is_same_v<U, bool>> {};
  using ViewFn = std::span<const char> (*)(const std::any&);
  template <class T>
  static ViewFn view_fn() {
    if constexpr (BitwiseVector<T>::value)
      return [](const std::any& a) -> std::span<const char> {
        const T& v = *std::any_cast<T>(&a);
        return std::span<const char>(reinterpret_cast<const char*>(v.data()),
                                     v.size() * sizeof(typename T::value_type));
      };
    else
      return nullptr;
  }
  template <class T>
  static void encode_as(const std::any& a, Writer& w) {
    Codec<T>::encode(w, *std::any_cast<T>(&a));
  }
  Entry& find(std::string_view name, const char* tag, const std::string& readable);
  [[noreturn]] void throw_missing(std::string_view name) const;
  Entry& slot(std::string name);
  std::vector<std::string> names_locked() const;

  void changed() noexcept { generation_.fetch_add(1, std::memory_order_acq_rel); }

  int engine_id_;
  std::atomic<std::uint64_t> generation_{0};
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace mpiply::detail
