#pragma once
// publish_data: a task reports values to rank 0 while it runs, as ipyparallel's
// ipyparallel.datapub.publish_data; rank 0 reads the latest value of each key with ar.data()
// (docs/output.md). Values are a small JSON-like set, so no registration is needed for them.
#include <concepts>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include <mpiply/errors.hpp>

namespace mpiply {

// One published value: a flag, an integer, a number, a text or an array of numbers. Any integer
// type is kept as std::int64_t and any floating type as double, so publish_data({{"i", i}})
// works for an int or a std::size_t i; get<T>() reads it back as the type the caller names
// (an integer as any integer type it fits, or as a floating type). It is a std::variant, so
// std::get, std::holds_alternative and std::visit work as before.
class DataValue : public std::variant<bool, std::int64_t, double, std::string, std::vector<double>> {
 public:
  using variant_type = std::variant<bool, std::int64_t, double, std::string, std::vector<double>>;
  DataValue() = default;
  DataValue(bool b) : variant_type(b) {}  // NOLINT: implicit, as a map initialiser reads
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  DataValue(I i) : variant_type(to_int64(i)) {}  // NOLINT
  template <std::floating_point F>
  DataValue(F f) : variant_type(static_cast<double>(f)) {}  // NOLINT
  DataValue(std::string s) : variant_type(std::move(s)) {}       // NOLINT
  DataValue(std::string_view s) : variant_type(std::string(s)) {}  // NOLINT
  DataValue(const char* s) : variant_type(std::string(s)) {}     // NOLINT
  DataValue(std::vector<double> v) : variant_type(std::move(v)) {}  // NOLINT

  // The value as T: bool, any integer type (UsageError if the integer does not fit T), any
  // floating type (from a number or an integer), std::string, std::vector<double>. A value of
  // another kind is a UsageError naming what it holds.
  template <class T>
  T get() const {
    if constexpr (std::is_same_v<T, bool>) {
      if (auto* b = std::get_if<bool>(this)) return *b;
    } else if constexpr (std::is_integral_v<T>) {
      if (auto* i = std::get_if<std::int64_t>(this)) {
        if (!std::in_range<T>(*i))
          throw UsageError(fmt::format("published value {} does not fit the integer type asked "
                                       "for; read it as std::int64_t",
                                       *i));
        return static_cast<T>(*i);
      }
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto* d = std::get_if<double>(this)) return static_cast<T>(*d);
      if (auto* i = std::get_if<std::int64_t>(this)) return static_cast<T>(*i);
    } else {
      static_assert(std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<double>>,
                    "DataValue::get<T>: T is bool, an integer or floating type, std::string or "
                    "std::vector<double>");
      if (auto* v = std::get_if<T>(this)) return *v;
    }
    throw UsageError(fmt::format("published value holds {}, not the type asked for; read it as "
                                 "that type",
                                 kind_name()));
  }
  // "a flag", "an integer", "a number", "a text", "an array of numbers".
  const char* kind_name() const noexcept {
    static constexpr const char* names[] = {"a flag", "an integer", "a number", "a text",
                                            "an array of numbers"};
    return index() < 5 ? names[index()] : "nothing";
  }

 private:
  template <class I>
  static std::int64_t to_int64(I i) {
    if (!std::in_range<std::int64_t>(i))
      throw UsageError(fmt::format("publish_data: {} does not fit a std::int64_t, the type "
                                   "published integers are kept as; publish it as a double or a "
                                   "string",
                                   i));
    return static_cast<std::int64_t>(i);
  }
};
// The values a task published, by key; a later publish of a key replaces its value.
using DataMap = std::map<std::string, DataValue>;

// Inside a task (on an engine, or on rank 0 when it runs tasks): merges values into this task's
// published data. Rank 0 sees them while the task runs when output streaming is on
// (RunOptions::stream_output, MPIPLY_STREAM=1), and always once its result arrives. Called
// outside a task, or from a thread the task started, it throws UsageError.
//   mpiply::publish_data({{"step", i}, {"loss", loss}});   // read back: d.at("step").get<int>()
void publish_data(const DataMap& values);

}  // namespace mpiply
