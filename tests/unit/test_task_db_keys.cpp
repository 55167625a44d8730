// Resume keys of real task messages: the same call or map chunk in another run (another msg id)
// has the same key; another argument or another chunking does not. What lets a half-done map
// resume only its missing chunks.
#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include <mpiply/mpiply.hpp>
#include <mpiply/detail/sources.hpp>

#include "taskdb/resume_key.hpp"

using namespace mpiply::detail;

namespace {

double scale(double x, int k) { return x * k; }
MPIPLY_REGISTER(scale);

using ScaleMap = MapSource<decltype(&scale)>;

std::shared_ptr<ScaleMap> map_source(const std::vector<double>& xs, std::size_t chunk,
                                     mpiply::MsgId first_msg) {
  auto src = std::make_shared<ScaleMap>(MapInput<double>(xs), MapInput<int>(std::vector<int>(xs.size(), 3)));
  src->fn_id = hash_name("scale");
  src->n = xs.size();
  src->chunk = chunk;
  src->ntasks = static_cast<std::uint32_t>((xs.size() + chunk - 1) / chunk);
  src->first_msg = first_msg;
  return src;
}

std::vector<ResumeKey> chunk_keys(ScaleMap& src) {
  std::vector<ResumeKey> keys;
  Bytes scratch;
  std::vector<Segment> segs;
  for (std::uint32_t t = 0; t < src.ntasks; ++t)
    keys.push_back(resume_key("scale", task_arguments(src.encode(t, scratch, segs))));
  return keys;
}

}  // namespace

TEST_CASE("a map chunk has the same resume key in another run, whatever its msg id",
          "[taskdb]") {
  std::vector<double> xs(1000);
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = 0.5 * double(i);
  auto first = map_source(xs, 10, 1);
  auto second = map_source(xs, 10, 5000);  // a later run numbers its tasks differently
  auto a = chunk_keys(*first), b = chunk_keys(*second);
  REQUIRE(a.size() == 100);
  CHECK(a == b);
  CHECK(std::set<ResumeKey>(a.begin(), a.end()).size() == a.size());  // every chunk its own key

  // One item changed: only its chunk's key changes.
  std::vector<double> ys = xs;
  ys[537] += 1e-9;
  auto c = chunk_keys(*map_source(ys, 10, 1));
  for (std::size_t t = 0; t < a.size(); ++t) {
    INFO("chunk " << t);
    CHECK((a[t] == c[t]) == (t != 53));
  }

  // Another chunksize cuts other chunks: nothing is shared (documented: resume needs the same
  // chunksize).
  auto d = chunk_keys(*map_source(xs, 20, 1));
  std::set<ResumeKey> tens(a.begin(), a.end());
  for (const ResumeKey& k : d) CHECK(tens.count(k) == 0);
}

TEST_CASE("an apply's resume key ignores the msg id but not the arguments", "[taskdb]") {
  auto one = make_apply_source<decltype(&scale)>(hash_name("scale"), 2.5, 4);
  auto two = make_apply_source<decltype(&scale)>(hash_name("scale"), 2.5, 4);
  auto other = make_apply_source<decltype(&scale)>(hash_name("scale"), 2.5, 5);
  one->first_msg = 7;
  two->first_msg = 70000;
  other->first_msg = 7;
  Bytes s1, s2, s3;
  std::vector<Segment> segs;
  auto m1 = one->encode(0, s1, segs);
  auto m2 = two->encode(0, s2, segs);
  auto m3 = other->encode(0, s3, segs);
  REQUIRE(m1.size() > sizeof(TaskHeader));
  CHECK(resume_key("scale", task_arguments(m1)) == resume_key("scale", task_arguments(m2)));
  CHECK(resume_key("scale", task_arguments(m1)) != resume_key("scale", task_arguments(m3)));
  // A seeded hasher (one per function, reused for every task) gives the same key.
  KeyHasher seed("scale");
  CHECK(resume_key(seed, task_arguments(m1)) == resume_key("scale", task_arguments(m1)));
  CHECK(task_arguments(std::span<const char>(m1.data(), 3)).empty());
}

TEST_CASE("the one-pass and the incremental resume key agree at every length", "[taskdb]") {
  std::string bytes(70, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 37 + 11);
  KeyHasher seed("some_function");
  std::set<ResumeKey> seen;
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    KeyHasher h("some_function");
    for (std::size_t i = 0; i < n; i += 3) h.update(bytes.data() + i, std::min<std::size_t>(3, n - i));
    ResumeKey k = resume_key(seed, {bytes.data(), n});
    INFO("length " << n);
    CHECK(h.finish() == k);
    CHECK(resume_key("some_function", {bytes.data(), n}) == k);
    seen.insert(k);
  }
  CHECK(seen.size() == bytes.size() + 1);  // each prefix its own key
}
