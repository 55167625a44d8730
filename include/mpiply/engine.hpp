#pragma once
// What a registered function sees of the engine running it: its id and its namespace of named
// values (pushed by the client, scattered, or set by earlier tasks). Use this_engine() inside a
// task, e.g. to load a large input once and map over indices into it.
#include <string>
#include <string_view>
#include <vector>

#include <mpiply/detail/namespace_store.hpp>

namespace mpiply {

// With MPIPLY_ENGINE_THREADS (RunOptions::engine_threads) above 1, several tasks run at once on
// one engine, each on its own worker thread, and share this object. What is safe then:
// - id(), rank(), hostname(): always;
// - get, set, contains, erase, names: each takes the namespace's lock, so tasks may call them at
//   once, on the same or different names;
// - but get returns a reference into the namespace, read without the lock: a name must not be
//   set again or erased while another task may still read it. Give each task's scratch values
//   their own names, or set shared ones before the tasks that read them (a push from the
//   client is safe: it waits for the engine's earlier tasks and runs before later ones);
// - the values themselves are the task's business: reading one const object from many tasks is
//   fine, changing it (through a const_cast, or a pointer inside it) needs its own lock.
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
