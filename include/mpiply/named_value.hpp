#pragma once
// A name and a value for push: dv.push({{"a", 1}, {"xs", big_vector}}). Large contiguous arrays of
// plain data are not copied: a blocking push sends them straight from the caller's memory as
// their own MPI messages. push_async takes copies, so the caller may change its data at once.
#include <string>
#include <type_traits>
#include <vector>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/core.hpp>
#include <mpiply/detail/type_name.hpp>

namespace mpiply {

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
  NamedValue(std::string name, const T& value)
      : name_(std::move(name)), type_(detail::type_tag<T>()) {
    detail::Writer w(bytes_);
    if constexpr (detail::is_plain_vector<T>::value) {
      std::size_t n = value.size() * sizeof(typename T::value_type);
      if (n >= detail::kSegmentThreshold) {
        w.u64(value.size());
        seg_ = {reinterpret_cast<const char*>(value.data()), n};
        return;
      }
    }
    detail::Codec<T>::encode(w, value);
  }
  NamedValue(std::string name, const char* s) : NamedValue(std::move(name), std::string(s)) {}

  const std::string& name() const noexcept { return name_; }
  // Copies a borrowed array into this value, so it no longer refers to the caller's memory.
  void own();
  // Writes this entry of a push message; borrowed arrays are appended to segs.
  void write(detail::Writer& w, std::vector<detail::Segment>& segs) const;

 private:
  std::string name_;
  std::string type_;
  detail::Bytes bytes_;
  detail::Segment seg_{nullptr, 0};
};

}  // namespace mpiply
