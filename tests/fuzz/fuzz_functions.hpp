#pragma once
// The registered functions the executor fuzz target calls, shared with the corpus generator so
// that its seed messages name functions the target knows (ids are hashes of these names).
// Between them they take and return every kind of value the codec has: plain data, strings,
// element-wise containers, optional, tuple, maps, a Boost-serialised struct, void, and a function
// that throws; fz_store and fz_load reach the engine's namespace.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <boost/serialization/string.hpp>

namespace mpiply_fuzz {

struct FzPoint {
  int x = 0;
  std::string label;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & x & label;
  }
};

int fz_twice(int x);
double fz_sum(const std::vector<double>& v);
std::string fz_join(const std::string& sep, const std::vector<std::string>& parts);
std::map<std::string, int> fz_count(const std::vector<std::string>& words);
std::optional<std::string> fz_half(std::optional<std::string> x);
std::tuple<int, double, std::string> fz_tuple(std::pair<int, std::string> p);
FzPoint fz_point(const FzPoint& p);
void fz_store(std::string name, int v);
int fz_load(std::string name);
int fz_throw(int x);
std::vector<char> fz_bytes(int n);

}  // namespace mpiply_fuzz
