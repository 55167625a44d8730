#pragma once
// view["a"] = value pushes; view["a"].get<T>() pulls (one value per target on a DirectView, the
// value itself on client[i]). The proxy holds its view by value (a view is a handle: a shared
// pointer and a list of ids), so `auto p = rc[mpiply::all]["x"];` stays valid on its own.
#include <string>
#include <type_traits>
#include <utility>

#include <mpiply/named_value.hpp>

namespace mpiply {

template <class View>
class NameProxy {
 public:
  template <class T>
    requires(!std::is_same_v<std::remove_cvref_t<T>, NameProxy>)
  NameProxy& operator=(T&& value) {
    view_.push({NamedValue(name_, std::forward<T>(value))});
    return *this;
  }
  template <class T>
  auto get() {
    return view_.template pull<T>(name_);
  }
  const std::string& name() const noexcept { return name_; }

 private:
  friend View;
  NameProxy(View view, std::string name) : view_(std::move(view)), name_(std::move(name)) {}
  View view_;
  std::string name_;
};

}  // namespace mpiply
