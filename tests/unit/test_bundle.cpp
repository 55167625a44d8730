// Bundles (src/wire/bundle.hpp): several task or result messages in one MPI message. Written and
// read back whole, each piece 8-aligned; a bundle that does not hold together is refused with an
// error naming what is wrong, never read past its end.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <mpiply/errors.hpp>

#include "wire/bundle.hpp"

namespace {

using mpiply::detail::BundleHeader;
using mpiply::detail::BundleReader;
using mpiply::detail::BundleWriter;
using mpiply::detail::Bytes;
using mpiply::detail::is_bundle;
using mpiply::detail::kBundleHoldResults;
using mpiply::detail::kBundleMagic;
using mpiply::detail::kBundleMaxPieces;

std::string piece_of(std::size_t n, int seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 13 + seed) & 0xff);
  return s;
}

std::vector<std::string> read_all(const Bytes& b) {
  BundleReader r({b.data(), b.size()});
  std::vector<std::string> out;
  std::span<const char> p;
  while (r.left() > 0 && r.next(p)) out.emplace_back(p.data(), p.size());
  CHECK_FALSE(r.next(p));  // nothing after the last piece
  return out;
}

std::string error_of(const Bytes& b) {
  try {
    read_all(b);
  } catch (const mpiply::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a bundle's pieces come back whole, in order, each 8-aligned", "[bundle]") {
  // Sizes around the padding, an empty piece, and a 100 KiB one.
  std::vector<std::size_t> sizes = {0, 1, 7, 8, 9, 63, 64, 65, 1000, 100 << 10};
  std::vector<std::string> pieces;
  Bytes b;
  BundleWriter w(b);
  w.begin(kBundleHoldResults);
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    pieces.push_back(piece_of(sizes[k], static_cast<int>(k)));
    w.add({pieces.back().data(), pieces.back().size()});
  }
  CHECK(w.count() == sizes.size());
  REQUIRE(is_bundle({b.data(), b.size()}));
  CHECK(b.size() % 8 == 0);

  BundleReader r({b.data(), b.size()});
  CHECK(r.flags() == kBundleHoldResults);
  CHECK(r.left() == sizes.size());
  std::span<const char> p;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    REQUIRE(r.next(p));
    CHECK(std::string(p.data(), p.size()) == pieces[k]);
    CHECK((p.data() - b.data()) % 8 == 0);
    CHECK(r.left() == sizes.size() - k - 1);
  }
  CHECK_FALSE(r.next(p));

  // begin() starts over in the same buffer.
  w.begin(0);
  w.add({pieces[2].data(), pieces[2].size()});
  CHECK(read_all(b) == std::vector<std::string>{pieces[2]});
  CHECK(BundleReader({b.data(), b.size()}).flags() == 0);
}

TEST_CASE("no task or result message is taken for a bundle", "[bundle]") {
  // A task message begins with its kind (1 to 5), a result with its msg id; short ones, and a
  // message that merely starts with the magic but is too short for the header, are not bundles.
  std::vector<char> task(40, 0);
  task[0] = 1;
  CHECK_FALSE(is_bundle({task.data(), task.size()}));
  std::vector<char> result(64, 0);
  std::uint64_t id = 123456789;
  std::memcpy(result.data(), &id, sizeof id);
  CHECK_FALSE(is_bundle({result.data(), result.size()}));
  std::vector<char> short_magic(8);
  std::memcpy(short_magic.data(), &kBundleMagic, 8);
  CHECK_FALSE(is_bundle({short_magic.data(), short_magic.size()}));
  CHECK_FALSE(is_bundle({}));
}

TEST_CASE("a bundle that does not hold together is refused, saying why", "[bundle]") {
  std::string a = piece_of(20, 1), c = piece_of(30, 2);
  Bytes good;
  BundleWriter w(good);
  w.begin(0);
  w.add({a.data(), a.size()});
  w.add({c.data(), c.size()});
  REQUIRE(read_all(good).size() == 2);

  auto edited = [&](auto edit) {
    Bytes b(good);
    edit(b);
    return error_of(b);
  };
  auto set_count = [](Bytes& b, std::uint32_t n) {
    std::memcpy(b.data() + offsetof(BundleHeader, count), &n, sizeof n);
  };
  CHECK_THAT(edited([&](Bytes& b) { set_count(b, 0); }),
             Catch::Contains("claims 0 pieces"));
  CHECK_THAT(edited([&](Bytes& b) { set_count(b, kBundleMaxPieces + 1); }),
             Catch::Contains("claims 65 pieces"));
  CHECK_THAT(edited([&](Bytes& b) { set_count(b, 3); }),
             Catch::Contains("ends with 1 pieces still to come"));
  CHECK_THAT(edited([&](Bytes& b) { set_count(b, 1); }),
             Catch::Contains("bytes after its last piece"));
  CHECK_THAT(edited([&](Bytes& b) {  // the first piece's length runs past the end
               std::uint32_t len = 1 << 20;
               std::memcpy(b.data() + sizeof(BundleHeader), &len, sizeof len);
             }),
             Catch::Contains("runs past its end"));
  CHECK_THAT(edited([&](Bytes& b) { b.resize(b.size() - 8); }),
             Catch::Contains("runs past its end"));
  CHECK_THAT(edited([&](Bytes& b) { b.resize(sizeof(BundleHeader) - 1); }),
             Catch::Contains("shorter than its header"));
  CHECK_THAT(edited([&](Bytes& b) { b.data()[0] ^= 1; }), Catch::Contains("magic"));
}
