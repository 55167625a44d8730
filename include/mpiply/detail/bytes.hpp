#pragma once
// A growable byte buffer without zero-initialisation. Large buffers are allocated on 2 MiB
// boundaries and advised for transparent huge pages: a first touch of fresh 4 KiB pages is many
// times slower than of huge pages (docs/benchmarks-log.md), and big pushes land in fresh memory.
#include <cstddef>
#include <cstring>
#include <utility>

namespace mpiply::detail {

void* alloc_bytes(std::size_t n, std::size_t& granted);
void free_bytes(void* p) noexcept;
// Ask for huge pages on [p, p+n) where the range covers whole 2 MiB pages (no-op otherwise).
void advise_huge(void* p, std::size_t n) noexcept;

// Reserves room for n elements in a std::vector and, when that is large, advises huge pages
// before anything touches it (result arrays of million-item maps are written once, in order).
template <class Vec>
void reserve_huge(Vec& v, std::size_t n) {
  v.reserve(n);
  std::size_t bytes = n * sizeof(typename Vec::value_type);
  if (bytes >= (std::size_t(4) << 20)) advise_huge(v.data(), bytes);
}

class Bytes {
 public:
  Bytes() = default;
  explicit Bytes(std::size_t n) { resize(n); }
  Bytes(const Bytes& o) { append(o.data_, o.size_); }
  Bytes(Bytes&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
        cap_(std::exchange(o.cap_, 0)) {}
  Bytes& operator=(Bytes o) noexcept {
    swap(o);
    return *this;
  }
  ~Bytes() { free_bytes(data_); }

  void swap(Bytes& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
  }
  char* data() noexcept { return data_; }
  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return cap_; }
  bool empty() const noexcept { return size_ == 0; }
  void clear() noexcept { size_ = 0; }

  void reserve(std::size_t n) {
    if (n <= cap_) return;
    std::size_t granted = 0;
    char* p = static_cast<char*>(alloc_bytes(n, granted));
    if (size_) std::memcpy(p, data_, size_);
    free_bytes(data_);
    data_ = p;
    cap_ = granted;
  }
  void resize(std::size_t n) {
    reserve(n);
    size_ = n;
  }
  // Appends n uninitialised bytes and returns where they start.
  char* grow(std::size_t n) {
    if (size_ + n > cap_) reserve(size_ + n > 2 * cap_ ? size_ + n : 2 * cap_);
    char* p = data_ + size_;
    size_ += n;
    return p;
  }
  void append(const void* p, std::size_t n) {
    if (n) std::memcpy(grow(n), p, n);
  }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0, cap_ = 0;
};

}  // namespace mpiply::detail
