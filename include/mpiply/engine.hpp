#pragma once
// What a registered function sees of the engine running it: its id and its namespace of named
// values (pushed by the client, scattered, or set by earlier tasks). Use this_engine() inside a
// task, e.g. to load a large input once and map over indices into it.
#include <string>
#include <string_view>
#include <vector>

#include <mpiply/detail/namespace_store.hpp>

namespace mpiply {

class Engine {
 public:
  Engine(int id, int rank, std::string hostname)
      : id_(id), rank_(rank), hostname_(std::move(hostname)), store_(id) {}
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int id() const noexcept { return id_; }
  int rank() const noexcept { return rank_; }
  const std::string& hostname() const noexcept { return hostname_; }

  // The value of name, which must hold a T; throws an error naming the engine and the fix.
  template <class T>
  const T& get(std::string_view name) {
    return store_.get<T>(name);
  }
  template <class T>
  void set(std::string name, T value) {
    store_.set(std::move(name), std::move(value));
  }
  bool contains(std::string_view name) const { return store_.contains(name); }
  bool erase(std::string_view name) { return store_.erase(name); }
  std::vector<std::string> names() const { return store_.names(); }

  detail::NamespaceStore& store() noexcept { return store_; }

 private:
  int id_, rank_;
  std::string hostname_;
  detail::NamespaceStore store_;
};

// The engine running the current task. Throws UsageError outside a task.
Engine& this_engine();

namespace detail {
// Whether this thread is running a task (engine_comm() is refused otherwise).
bool in_task() noexcept;
// Marks eng as the engine of the tasks run on this thread while the guard lives.
class CurrentEngine {
 public:
  explicit CurrentEngine(Engine& eng);
  ~CurrentEngine();

 private:
  Engine* prev_;
};
}  // namespace detail

}  // namespace mpiply
