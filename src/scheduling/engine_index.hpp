#pragma once
// Rank 0's index of the engines that can take a task (in service, fewer than hwm outstanding),
// kept up to date on every send and result, so that picking an engine costs the same whatever
// the engine count. The scheduler (scheduler.hpp) owns it and is told each load change; the
// plain leastload loop and every SchemePicker scheme (schemes.hpp) read it instead of scanning
// the engines.
//
// What it keeps, per engine in service with room:
//  - a FIFO list per load level (0..hwm-1): the plain loop takes the head of the lowest one, so
//    ties go round robin (an engine joins the back of its level when its load changes);
//  - with plainrandom or twobin, a dense array of them all (uniform draws);
//  - with `weighted`, a dense array per load level (draws weighted by 1/load);
//  - with `leastload` or `lru`, once a SchemePicker first asks, an ordered set by (load, stamp) or
//    by stamp alone, where stamp is when the scheme last gave the engine a task: the exact
//    "least loaded, then least recently used" and "least recently used" orders, O(log E). It is
//    dropped again after 4E + 64 load changes without a question (plain tasks only), and
//    rebuilt on the next.
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include <mpiply/run_options.hpp>

namespace mpiply::detail {

class EngineIndex {
 public:
  EngineIndex() = default;
  // n engines in service, all at load 0.
  void reset(std::size_t n, unsigned hwm, Scheme scheme);

  // Engine e's outstanding count changed from its old value to c (after each send and result).
  void set_load(int e, unsigned c);
  // Engine e takes no more tasks (Client::shutdown(targets)); for good.
  void retire(int e);
  // Engine e is held idle for a waiting team (scheduler_teams.cpp): no pick returns it until
  // release_hold, while its load is still tracked.
  void hold(int e);
  void release_hold(int e);
  bool held(int e) const noexcept { return held_[static_cast<std::size_t>(e)] != 0; }

  std::size_t size() const noexcept { return load_.size(); }
  unsigned hwm() const noexcept { return hwm_; }
  unsigned load(int e) const noexcept { return load_[static_cast<std::size_t>(e)]; }
  bool in_service(int e) const noexcept { return !retired_[static_cast<std::size_t>(e)]; }
  bool has_room(int e) const noexcept { return in_service(e) && !held(e) && load(e) < hwm_; }
  bool any_room() const noexcept { return with_room_ != 0; }
  std::size_t in_service_count() const noexcept { return in_service_; }

  // The plain loop: least loaded in service, ties round robin; -1 if none has room. O(1)
  // amortised.
  int least_round_robin();

  // Uniform draw among the engines with room (-1 if none); needs plainrandom or twobin.
  int draw_uniform(std::mt19937_64& rng) const;
  // Draw weighted by 1 / (1e-6 + load) among the engines with room (-1 if none); needs the
  // weighted scheme. O(hwm).
  int draw_weighted(std::mt19937_64& rng) const;

  // Stamps: when a SchemePicker last gave each engine a task (0 = never).
  std::uint64_t stamp(int e) const noexcept { return stamp_[static_cast<std::size_t>(e)]; }
  void touch(int e);
  // The first engine with room in the scheme's order (leastload: load then stamp; lru: stamp),
  // -1 if none. The ordered set is built on the first call and kept from then on.
  int first_ordered();

 private:
  struct Key {
    unsigned load;
    std::uint64_t stamp;
    int e;
    bool operator<(const Key& o) const noexcept {
      if (load != o.load) return load < o.load;
      if (stamp != o.stamp) return stamp < o.stamp;
      return e < o.e;
    }
  };
  Key key(int e) const noexcept;
  void join(int e);   // e has room: into its level's list and the dense arrays
  void leave(int e);  // out of them (before a load change, or full, or retired)
  void insert_ordered(int e);

  unsigned hwm_ = 1;
  Scheme scheme_ = Scheme::leastload;
  std::vector<unsigned> load_;
  std::vector<char> retired_;
  std::vector<char> held_;
  std::size_t in_service_ = 0;
  std::vector<char> listed_;  // in the structures below (in service and load < hwm)
  // FIFO list per level: heads and tails by level, links by engine.
  std::vector<int> head_, tail_, next_, prev_;
  unsigned min_ = 0;  // no level below it has an engine
  std::size_t with_room_ = 0;
  bool dense_ = false;
  std::vector<int> room_, room_pos_;  // plainrandom and twobin only
  std::vector<std::vector<int>> level_;  // weighted only
  std::vector<int> level_pos_;
  std::vector<std::uint64_t> stamp_;
  std::uint64_t clock_ = 0;
  bool ordered_on_ = false;
  std::size_t unasked_ = 0;  // load changes since first_ordered was last called
  std::set<Key> ordered_;
  std::set<Key>::node_type spare_;
};

}  // namespace mpiply::detail
