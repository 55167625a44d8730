#pragma once
// Reference<T>("name") passed as an argument stands for that name's value in the namespace of the
// engine that runs the task (ipyparallel's Reference). T is the value's type; Reference<> takes the
// type of the parameter it is passed to. A std::vector of References passed for a std::vector
// parameter is resolved element by element, and so is a std::map<std::string, Reference> passed
// for a std::map<std::string, V> parameter (its keys kept); in map, a Reference in place of a sequence goes to
// every call, and a sequence of References is resolved item by item.
#include <string>
#include <type_traits>
#include <utility>

namespace mpiply {

template <class T = void>
class Reference {
 public:
  using value_type = T;
  explicit Reference(std::string name) : name_(std::move(name)) {}
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

namespace detail {
template <class T>
struct is_reference_arg : std::false_type {};
template <class T>
struct is_reference_arg<Reference<T>> : std::true_type {};
template <class A>
inline constexpr bool is_reference_arg_v = is_reference_arg<std::remove_cvref_t<A>>::value;
}  // namespace detail

}  // namespace mpiply
