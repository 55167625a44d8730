#pragma once
// A name and a value for push: dv.push({{"a", 1}, {"xs", big_vector}}). Small values are encoded
// at once. A large array of plain data (64 KiB and up) travels as its own MPI message straight
// from its memory: an lvalue is borrowed (a blocking push sends it without a copy, so the vector
// must outlive the push), an rvalue is moved in and owned, so a NamedValue never points at a
// temporary that is gone. push_async copies what is borrowed.
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/core.hpp>
#include <mpiply/detail/type_name.hpp>

namespace mpiply {

class DirectView;

namespace detail {
template <class T>
struct is_plain_vector : std::false_type {};
template <class T, class A>
struct is_plain_vector<std::vector<T, A>> : std::bool_constant<Bitwise<T>> {};
// Arrays at least this large travel as separate segments instead of inside the task message.
inline constexpr std::size_t kSegmentThreshold = std::size_t(64) << 10;
}  // namespace detail

class NamedValue {
 public:
  template <class T>
    requires(!std::is_same_v<std::remove_cvref_t<T>, NamedValue>)
  NamedValue(std::string name, T&& value)
      : name_(std::move(name)), type_(detail::type_tag<std::remove_cvref_t<T>>()) {
    using V = std::remove_cvref_t<T>;
    detail::Writer w(bytes_);
    if constexpr (detail::is_plain_vector<V>::value) {
      std::size_t n = value.size() * sizeof(typename V::value_type);
      if (n >= detail::kSegmentThreshold) {
        w.u64(value.size());
        if constexpr (std::is_lvalue_reference_v<T>) {
          seg_ = {reinterpret_cast<const char*>(value.data()), n};
        } else {
          auto owned = std::make_shared<const V>(std::move(value));
          seg_ = {reinterpret_cast<const char*>(owned->data()), n};
          keep_ = std::move(owned);
        }
        return;
      }
    }
    detail::Codec<V>::encode(w, value);
  }
  // Text literals are sent as std::string (a pointer would mean nothing on an engine).
  NamedValue(std::string name, const char* s) : NamedValue(std::move(name), std::string(s)) {}

  const std::string& name() const noexcept { return name_; }
  // True when this value points at memory it does not own (a large lvalue array).
  bool borrowed() const noexcept { return seg_.data && !keep_; }
  // Copies a borrowed array, so this value no longer refers to the caller's memory.
  void own();
  // Writes this entry of a push message; large arrays are appended to segs, and what keeps
  // their memory alive (when owned) to keep.
  void write(detail::Writer& w, std::vector<detail::Segment>& segs,
             std::vector<std::shared_ptr<const void>>& keep) const;

 private:
  friend class DirectView;
  struct BorrowTag {};
  // A borrowed run of n elements of T stored as a std::vector<T> (a blocking scatter's block).
  template <class T>
  NamedValue(BorrowTag, std::string name, const T* p, std::size_t n)
      : name_(std::move(name)), type_(detail::type_tag<std::vector<T>>()) {
    detail::Writer w(bytes_);
    w.u64(n);
    if (n * sizeof(T) >= detail::kSegmentThreshold)
      seg_ = {reinterpret_cast<const char*>(p), n * sizeof(T)};
    else
      w.raw(p, n * sizeof(T));
  }

  std::string name_;
  std::string type_;
  detail::Bytes bytes_;  // the encoded value, or only the element count of a segment
  detail::Segment seg_{nullptr, 0};
  std::shared_ptr<const void> keep_;  // owner of seg_'s memory; empty when borrowed
};

}  // namespace mpiply
