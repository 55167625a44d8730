// Definitions and registrations of the executor fuzz target's functions (fuzz_functions.hpp).
#include "fuzz_functions.hpp"

#include <numeric>
#include <stdexcept>

#include <mpiply/mpiply.hpp>

namespace mpiply_fuzz {

int fz_twice(int x) { return static_cast<int>(2u * static_cast<unsigned>(x)); }
double fz_sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
std::string fz_join(const std::string& sep, const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}
std::map<std::string, int> fz_count(const std::vector<std::string>& words) {
  std::map<std::string, int> m;
  for (const auto& w : words) ++m[w];
  return m;
}
std::optional<std::string> fz_half(std::optional<std::string> x) {
  if (!x) return std::nullopt;
  return x->substr(0, x->size() / 2);
}
std::tuple<int, double, std::string> fz_tuple(std::pair<int, std::string> p) {
  return {p.first, 0.5 * p.first, p.second};
}
FzPoint fz_point(const FzPoint& p) { return {p.x + 1, p.label + "!"}; }
void fz_store(std::string name, int v) { mpiply::this_engine().set(std::move(name), v); }
int fz_load(std::string name) { return mpiply::this_engine().get<int>(name); }
int fz_throw(int x) {
  if (x % 2) throw std::runtime_error("fz_throw: odd input");
  return x;
}
// User code decides its own sizes: kept small so the fuzzer measures the decoders, not malloc.
std::vector<char> fz_bytes(int n) {
  return std::vector<char>(static_cast<std::size_t>(n) % 4096, 'b');
}

}  // namespace mpiply_fuzz

using namespace mpiply_fuzz;  // NOLINT: MPIPLY_REGISTER takes the plain names
MPIPLY_REGISTER(fz_twice);
MPIPLY_REGISTER(fz_sum);
MPIPLY_REGISTER(fz_join);
MPIPLY_REGISTER(fz_count);
MPIPLY_REGISTER(fz_half);
MPIPLY_REGISTER(fz_tuple);
MPIPLY_REGISTER(fz_point);
MPIPLY_REGISTER(fz_store);
MPIPLY_REGISTER(fz_load);
MPIPLY_REGISTER(fz_throw);
MPIPLY_REGISTER(fz_bytes);
