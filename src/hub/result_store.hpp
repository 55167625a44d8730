#pragma once
// The values the hub keeps: each finished task's result items as they came over the wire
// (encoded bytes), referred to from its TaskRecord, so rc.get_result and rc.results() work after
// the AsyncResult is gone. The record holds results of up to 8 encoded bytes itself, and a
// single ok item of up to 8 bytes (an int, a double: 9 or 13 encoded bytes) as those bytes; up
// to 4 KiB go to shared 4 MiB blocks on huge pages, larger ones to an allocation of their own.
// Memory per task: none beyond the record for such small results; per submission of calls, its
// TaskSource (submission_table.hpp), for resubmit. purge_* gives both back (a shared block once
// none of its results is kept).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <mpiply/detail/bytes.hpp>

#include "hub/record_table.hpp"

namespace mpiply::detail {

// Results at least this large that arrived in a buffer of their own are kept by taking that
// buffer (adopt) rather than by a copy.
inline constexpr std::size_t kAdoptMinBytes = std::size_t(1) << 20;

class ResultStore {
 public:
  explicit ResultStore(RecordTable& records) : records_(records) {}
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  // The kept bytes of the task at index i of the table (msg id - the table's base); a packed
  // result is unpacked into buf, which must outlive the view.
  using Unpacked = char[16];
  std::string_view bytes(std::size_t i, Unpacked& buf) const;
  void keep(std::size_t i, const char* p, std::size_t n);
  // Keeps the n bytes at p, which lie inside buf, by taking buf itself instead of copying them:
  // a large result received whole into a buffer of its own (ResultInbox::take_big).
  void adopt(std::size_t i, Bytes&& buf, const char* p, std::size_t n);
  // Frees a slot's bytes (a shared block goes back once none of its results is kept).
  void drop(std::size_t i);
  // Bytes held for kept values beyond the records: live blocks and own allocations.
  std::size_t bytes_held() const { return heap_; }

 private:
  static constexpr std::size_t kBlockBytes = std::size_t(4) << 20;  // huge pages (bytes.cpp)
  static constexpr std::size_t kSharedMax = 4096;
  struct Block {
    char* p = nullptr;
    std::size_t used = 0, live = 0;  // bytes handed out; results still kept
  };
  static constexpr std::uint32_t kInline = 8;
  static constexpr std::uint32_t kOwn = 0xffffffffu;  // no block being filled
  RecordTable& records_;
  std::vector<Block> blocks_;
  std::uint32_t cur_ = kOwn;  // block being filled
  std::size_t heap_ = 0;
  std::unordered_map<std::size_t, Bytes> adopted_;  // by record index, the kKeptAdopted buffers
};

}  // namespace mpiply::detail
