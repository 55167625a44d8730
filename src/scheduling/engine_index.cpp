// Rank 0's index of engines with room (engine_index.hpp).
#include "scheduling/engine_index.hpp"

#include <algorithm>

namespace mpiply::detail {

void EngineIndex::reset(std::size_t n, unsigned hwm, Scheme scheme) {
  hwm_ = std::max(1u, hwm);
  scheme_ = scheme;
  load_.assign(n, 0);
  retired_.assign(n, 0);
  held_.assign(n, 0);
  in_service_ = n;
  listed_.assign(n, 0);
  head_.assign(hwm_, -1);
  tail_.assign(hwm_, -1);
  next_.assign(n, -1);
  prev_.assign(n, -1);
  min_ = 0;
  with_room_ = 0;
  dense_ = scheme_ == Scheme::plainrandom || scheme_ == Scheme::twobin;
  room_.clear();
  room_.reserve(dense_ ? n : 0);
  room_pos_.assign(n, -1);
  level_.assign(scheme_ == Scheme::weighted ? hwm_ : 0, {});
  level_pos_.assign(n, -1);
  stamp_.assign(n, 0);
  clock_ = 0;
  ordered_on_ = false;
  ordered_.clear();
  for (std::size_t e = 0; e < n; ++e) join(static_cast<int>(e));
}

EngineIndex::Key EngineIndex::key(int e) const noexcept {
  return {scheme_ == Scheme::lru ? 0u : load(e), stamp(e), e};
}

void EngineIndex::join(int e) {
  auto i = static_cast<std::size_t>(e);
  unsigned c = load_[i];
  prev_[i] = tail_[c];
  next_[i] = -1;
  if (tail_[c] >= 0) next_[static_cast<std::size_t>(tail_[c])] = e;
  else head_[c] = e;
  tail_[c] = e;
  min_ = std::min(min_, c);
  ++with_room_;
  if (dense_) {
    room_pos_[i] = static_cast<int>(room_.size());
    room_.push_back(e);
  }
  if (!level_.empty()) {
    level_pos_[i] = static_cast<int>(level_[c].size());
    level_[c].push_back(e);
  }
  if (ordered_on_) insert_ordered(e);
  listed_[i] = 1;
}

void EngineIndex::leave(int e) {
  auto i = static_cast<std::size_t>(e);
  unsigned c = load_[i];
  if (prev_[i] >= 0) next_[static_cast<std::size_t>(prev_[i])] = next_[i];
  else head_[c] = next_[i];
  if (next_[i] >= 0) prev_[static_cast<std::size_t>(next_[i])] = prev_[i];
  else tail_[c] = prev_[i];
  auto drop = [](std::vector<int>& v, std::vector<int>& pos, std::size_t i) {
    int at = pos[i];
    int last = v.back();
    v[static_cast<std::size_t>(at)] = last;
    pos[static_cast<std::size_t>(last)] = at;
    v.pop_back();
    pos[i] = -1;
  };
  --with_room_;
  if (dense_) drop(room_, room_pos_, i);
  if (!level_.empty()) drop(level_[c], level_pos_, i);
  if (ordered_on_) spare_ = ordered_.extract(key(e));
  listed_[i] = 0;
}

void EngineIndex::set_load(int e, unsigned c) {
  auto i = static_cast<std::size_t>(e);
  if (listed_[i]) leave(e);
  load_[i] = c;
  if (!retired_[i] && !held_[i] && c < hwm_) join(e);
  // Nobody has asked for the ordered set for a while (only plain tasks run): drop it, so plain
  // tasks stop paying for it. Rebuilding costs O(E log E), after at least 4E + 64 changes.
  if (ordered_on_ && ++unasked_ > 4 * load_.size() + 64) {
    ordered_on_ = false;
    ordered_.clear();
  }
}

void EngineIndex::retire(int e) {
  auto i = static_cast<std::size_t>(e);
  if (retired_[i]) return;
  if (listed_[i]) leave(e);
  retired_[i] = 1;
  --in_service_;
}

void EngineIndex::hold(int e) {
  auto i = static_cast<std::size_t>(e);
  if (held_[i]) return;
  if (listed_[i]) leave(e);
  held_[i] = 1;
}

void EngineIndex::release_hold(int e) {
  auto i = static_cast<std::size_t>(e);
  if (!held_[i]) return;
  held_[i] = 0;
  if (!retired_[i] && load_[i] < hwm_) join(e);
}

int EngineIndex::least_round_robin() {
  if (with_room_ == 0) return -1;
  while (head_[min_] < 0) ++min_;  // an engine with room is listed at some level >= min_
  return head_[min_];
}

int EngineIndex::draw_uniform(std::mt19937_64& rng) const {
  if (room_.empty()) return -1;
  std::uniform_int_distribution<std::size_t> pick(0, room_.size() - 1);
  return room_[pick(rng)];
}

int EngineIndex::draw_weighted(std::mt19937_64& rng) const {
  if (with_room_ == 0) return -1;
  auto weight = [](unsigned c) { return 1.0 / (1e-6 + c); };
  double total = 0;
  for (unsigned c = 0; c < level_.size(); ++c) total += weight(c) * double(level_[c].size());
  double r = std::uniform_real_distribution<double>(0.0, total)(rng);
  unsigned last = 0;
  for (unsigned c = 0; c < level_.size(); ++c) {
    if (level_[c].empty()) continue;
    last = c;
    double w = weight(c) * double(level_[c].size());
    if (r < w) break;
    r -= w;
  }
  const std::vector<int>& v = level_[last];  // the last non-empty level if rounding ran past
  std::uniform_int_distribution<std::size_t> pick(0, v.size() - 1);
  return v[pick(rng)];
}

void EngineIndex::touch(int e) {
  auto i = static_cast<std::size_t>(e);
  bool listed = ordered_on_ && listed_[i];
  if (listed) spare_ = ordered_.extract(key(e));
  stamp_[i] = ++clock_;
  if (listed) insert_ordered(e);
}

// Reuses the node of the last extraction: a load change allocates nothing.
void EngineIndex::insert_ordered(int e) {
  if (spare_.empty()) {
    ordered_.insert(key(e));
    return;
  }
  spare_.value() = key(e);
  ordered_.insert(std::move(spare_));
}

int EngineIndex::first_ordered() {
  unasked_ = 0;
  if (!ordered_on_) {
    ordered_on_ = true;
    for (std::size_t e = 0; e < listed_.size(); ++e)
      if (listed_[e]) ordered_.insert(key(static_cast<int>(e)));
  }
  return ordered_.empty() ? -1 : ordered_.begin()->e;
}

}  // namespace mpiply::detail
