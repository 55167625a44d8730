#pragma once
// Outcome<T>: one item's value or its RemoteError, what get(mpiply::return_exceptions) gives so
// that every item of a map can be looked at without catching the first failure.
#include <utility>
#include <variant>

#include <mpiply/errors.hpp>

namespace mpiply {

// Tag for get(mpiply::return_exceptions): values and errors side by side, nothing thrown.
struct ReturnExceptions {
  explicit ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

template <class T>
class Outcome {
 public:
  explicit Outcome(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  explicit Outcome(RemoteError error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  // The value; raises the item's error (as its specific type) if it failed.
  const T& value() const {
    if (!ok()) std::get<1>(v_).raise();
    return std::get<0>(v_);
  }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }
  // The item's error; UsageError if it succeeded.
  const RemoteError& error() const {
    if (ok()) throw UsageError("Outcome::error(): the item succeeded; check ok() first");
    return std::get<1>(v_);
  }

 private:
  std::variant<T, RemoteError> v_;
};

}  // namespace mpiply
