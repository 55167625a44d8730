#pragma once
// A bundle: several task messages (rank 0 to one engine) or several result messages (an engine to
// rank 0) in one MPI message. Every message has a fixed cost in MPI (matching, a request, a copy
// across cores) that no byte count shrinks; tasks sent to one engine in one dispatch pass, and
// the results of a bundle's short calls, share it. Each piece is a whole message of its own, so
// the receiver hands the pieces on one by one, exactly as if they had come separately.
//
// Layout: BundleHeader, then per piece a u32 length, a u32 zero and the piece, padded with zeros
// to a multiple of 8 bytes (pieces start 8-aligned in the receive buffer, like whole messages).
// No task or result message begins with kBundleMagic: a task begins with its Kind (1 to 5), a
// result with its msg id, which never comes near it.
#include <cstdint>
#include <span>

#include <mpiply/detail/bytes.hpp>

namespace mpiply::detail {

struct BundleHeader {
  std::uint64_t magic;
  std::uint32_t count;
  std::uint32_t flags;  // kBundle* bits
};
inline constexpr std::uint64_t kBundleMagic = 0x4d5049504c594255ull;  // "MPIPLYBU"
// On a task bundle: every piece is a plain call of a submission whose last task ran briefly, so
// the engine may hold their results and send them together (engine/result_outbox.hpp).
inline constexpr std::uint32_t kBundleHoldResults = 1;
// Rank 0 asks for that when the last finished task of each piece's submission ran within this;
// an engine sends what it holds once the oldest completed this long ago.
inline constexpr std::int64_t kHoldResultsNs = 100'000;
// The most pieces a bundle carries.
inline constexpr std::uint32_t kBundleMaxPieces = 64;

// Whether msg is a bundle (its header and magic; the pieces are checked as they are read).
bool is_bundle(std::span<const char> msg);

// Appends pieces to a buffer: begin() clears it and writes the header, add() a piece.
class BundleWriter {
 public:
  explicit BundleWriter(Bytes& out) : out_(out) {}
  void begin(std::uint32_t flags);
  void add(std::span<const char> piece);
  void reset() {  // empty, no header: begin() starts the next bundle
    out_.clear();
    count_ = 0;
  }
  std::uint32_t count() const { return count_; }
  // The bytes a bundle takes for a piece of n bytes.
  static std::size_t piece_bytes(std::size_t n) { return 8 + ((n + 7) & ~std::size_t(7)); }
  static constexpr std::size_t kHeaderBytes = sizeof(BundleHeader);

 private:
  Bytes& out_;
  std::uint32_t count_ = 0;
};

// Reads the pieces of a bundle in order. A bundle that does not hold together (a piece running
// past its end, a count over kBundleMaxPieces or not matching the pieces) throws mpiply::Error
// naming the problem.
class BundleReader {
 public:
  BundleReader() = default;  // nothing left
  explicit BundleReader(std::span<const char> bundle);
  std::uint32_t flags() const { return flags_; }
  std::uint32_t left() const { return left_; }
  // The next piece; false when none is left.
  bool next(std::span<const char>& piece);

 private:
  std::span<const char> rest_;
  std::uint32_t left_ = 0;
  std::uint32_t flags_ = 0;
};

}  // namespace mpiply::detail
