// Bundles of task or result messages (bundle.hpp): writing and checked reading.
#include "wire/bundle.hpp"

#include <cstring>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply::detail {

bool is_bundle(std::span<const char> msg) {
  if (msg.size() < sizeof(BundleHeader)) return false;
  std::uint64_t magic;
  std::memcpy(&magic, msg.data(), sizeof magic);
  return magic == kBundleMagic;
}

void BundleWriter::begin(std::uint32_t flags) {
  out_.clear();
  count_ = 0;
  BundleHeader h{kBundleMagic, 0, flags};
  out_.append(&h, sizeof h);
}

void BundleWriter::add(std::span<const char> piece) {
  std::uint32_t len[2] = {static_cast<std::uint32_t>(piece.size()), 0};
  std::size_t padded = piece_bytes(piece.size()) - 8;
  char* p = out_.grow(8 + padded);
  std::memcpy(p, len, 8);
  std::memcpy(p + 8, piece.data(), piece.size());
  std::memset(p + 8 + piece.size(), 0, padded - piece.size());
  ++count_;
  std::memcpy(out_.data() + offsetof(BundleHeader, count), &count_, sizeof count_);
}

BundleReader::BundleReader(std::span<const char> bundle) {
  BundleHeader h;
  if (bundle.size() < sizeof h) throw Error("a bundle message is shorter than its header");
  std::memcpy(&h, bundle.data(), sizeof h);
  if (h.magic != kBundleMagic) throw Error("a bundle message lacks its magic number");
  if (h.count == 0 || h.count > kBundleMaxPieces)
    throw Error(fmt::format("a bundle message claims {} pieces (1 to {} are possible)", h.count,
                            kBundleMaxPieces));
  rest_ = bundle.subspan(sizeof h);
  left_ = h.count;
  flags_ = h.flags;
}

bool BundleReader::next(std::span<const char>& piece) {
  if (left_ == 0) return false;
  std::uint32_t len[2];
  if (rest_.size() < sizeof len)
    throw Error(fmt::format("a bundle message ends with {} pieces still to come", left_));
  std::memcpy(len, rest_.data(), sizeof len);
  std::size_t need = BundleWriter::piece_bytes(len[0]);
  if (len[1] != 0 || need > rest_.size())
    throw Error(fmt::format("a bundle message's piece of {} bytes runs past its end ({} left)",
                            len[0], rest_.size() - sizeof len));
  piece = rest_.subspan(8, len[0]);
  rest_ = rest_.subspan(need);
  if (--left_ == 0 && !rest_.empty())
    throw Error(fmt::format("a bundle message has {} bytes after its last piece", rest_.size()));
  return true;
}

}  // namespace mpiply::detail
