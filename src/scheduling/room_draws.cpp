// Dense arrays of the engines with room, for random draws (room_draws.hpp).
#include "scheduling/room_draws.hpp"

namespace mpiply::detail {

namespace {

// Swaps the last entry into e's slot: removal in O(1), order does not matter for a draw.
void drop(std::vector<int>& v, std::vector<int>& pos, int e) {
  auto i = static_cast<std::size_t>(e);
  int at = pos[i];
  int last = v.back();
  v[static_cast<std::size_t>(at)] = last;
  pos[static_cast<std::size_t>(last)] = at;
  v.pop_back();
  pos[i] = -1;
}

}  // namespace

void RoomDraws::reset(std::size_t n, unsigned levels, Scheme scheme) {
  dense_ = scheme == Scheme::plainrandom || scheme == Scheme::twobin;
  room_.clear();
  room_.reserve(dense_ ? n : 0);
  room_pos_.assign(n, -1);
  level_.assign(scheme == Scheme::weighted ? levels : 0, {});
  level_pos_.assign(n, -1);
}

void RoomDraws::add(int e, unsigned level) {
  auto i = static_cast<std::size_t>(e);
  if (dense_) {
    room_pos_[i] = static_cast<int>(room_.size());
    room_.push_back(e);
  }
  if (!level_.empty()) {
    level_pos_[i] = static_cast<int>(level_[level].size());
    level_[level].push_back(e);
  }
}

void RoomDraws::remove(int e, unsigned level) {
  if (dense_) drop(room_, room_pos_, e);
  if (!level_.empty()) drop(level_[level], level_pos_, e);
}

int RoomDraws::uniform(std::mt19937_64& rng) const {
  if (room_.empty()) return -1;
  std::uniform_int_distribution<std::size_t> pick(0, room_.size() - 1);
  return room_[pick(rng)];
}

int RoomDraws::weighted(std::mt19937_64& rng) const {
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

}  // namespace mpiply::detail
