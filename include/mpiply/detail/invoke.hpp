#pragma once
// Typed glue between a registered function's signature and the wire: the client encodes arguments
// checked against the parameter types at compile time; the engine decodes them (values inline,
// References resolved in its namespace, or a vector or string-keyed map of References resolved
// element by element)
// and calls the function.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <mpiply/detail/codec.hpp>
#include <mpiply/detail/registry.hpp>
#include <mpiply/detail/type_name.hpp>
#include <mpiply/detail/wire.hpp>
#include <mpiply/engine.hpp>
#include <mpiply/reference.hpp>

namespace mpiply::detail {

template <class F>
inline constexpr bool always_false = false;
// Anything but a function pointer: a lambda, a std::function, a functor. Engines find a task's
// function by its registered name, which only a function pointer has, so say how to get one
// instead of leaving the compiler to report an incomplete type.
template <class F>
struct fn_traits {
  static_assert(always_false<F>,
                "mpiply: a task's function must be a registered function pointer, not a lambda or "
                "other callable object. Define a free function and register it "
                "(MPIPLY_REGISTER(fn)), or register a captureless lambda by name: "
                "constexpr auto f = [](double x) { ... }; MPIPLY_REGISTER_AS(\"f\", +f); then "
                "pass +f. Captured values travel as arguments instead.");
  using result = void;
  using params = std::tuple<>;
  static constexpr std::size_t arity = 0;
};
template <class R, class... A>
struct fn_traits<R (*)(A...)> {
  using result = R;
  using params = std::tuple<A...>;
  static constexpr std::size_t arity = sizeof...(A);
};
template <class R, class... A>
struct fn_traits<R (*)(A...) noexcept> : fn_traits<R (*)(A...)> {};

// The value type a task of F produces (None for void).
template <class R>
using value_of = std::conditional_t<std::is_void_v<R>, None, std::remove_cvref_t<R>>;
template <class F>
using result_value_t = value_of<typename fn_traits<F>::result>;

template <class P>
inline constexpr bool allowed_param =
    !(std::is_lvalue_reference_v<P> && !std::is_const_v<std::remove_reference_t<P>>);

template <class T>
struct is_std_vector : std::false_type {};
template <class T, class A>
struct is_std_vector<std::vector<T, A>> : std::true_type {};
// A std::vector of References, for a vector parameter: each element resolved on the engine.
template <class A>
struct is_reference_list : std::false_type {};
template <class T, class Al>
struct is_reference_list<std::vector<Reference<T>, Al>> : std::true_type {};
template <class A>
inline constexpr bool is_reference_list_v = is_reference_list<std::remove_cvref_t<A>>::value;
// A std::map from text keys to References, for a std::map<std::string, V> parameter: each value
// resolved on the engine (as ipyparallel resolves References inside a dict).
template <class A>
struct is_reference_map : std::false_type {};
template <class T, class C, class Al>
struct is_reference_map<std::map<std::string, Reference<T>, C, Al>> : std::true_type {};
template <class A>
inline constexpr bool is_reference_map_v = is_reference_map<std::remove_cvref_t<A>>::value;
template <class T>
struct is_string_map : std::false_type {};
template <class V, class C, class Al>
struct is_string_map<std::map<std::string, V, C, Al>> : std::true_type {};

// One argument on the engine: owns a decoded value, or points at a namespace value.
template <class P>
struct ArgSlot {
  using D = std::remove_cvref_t<P>;
  std::optional<D> own;
  const D* ptr = nullptr;

  void load(Reader& r, Engine& eng) {
    auto tag = static_cast<ArgTag>(r.u8());
    if (tag == ArgTag::value) {
      own.emplace(Codec<D>::decode(r));
      ptr = &*own;
    } else if (tag == ArgTag::reference) {
      std::string name(r.str());
      ptr = &eng.get<D>(name);
    } else if (tag == ArgTag::reference_list) {
      if constexpr (is_std_vector<D>::value) {
        auto n = r.count(sizeof(std::uint64_t));
        own.emplace();
        own->reserve(n);
        for (std::uint64_t i = 0; i < n; ++i) {
          std::string name(r.str());
          own->push_back(eng.get<typename D::value_type>(name));
        }
        ptr = &*own;
      } else {
        throw ValueDecodeError("a list of references for a parameter that is not a std::vector");
      }
    } else if (tag == ArgTag::reference_map) {
      if constexpr (is_string_map<D>::value) {
        auto n = r.count(2 * sizeof(std::uint64_t));  // a key and a name, each at least a length
        own.emplace();
        for (std::uint64_t i = 0; i < n; ++i) {
          std::string key(r.str());
          std::string name(r.str());
          own->emplace(std::move(key), eng.get<typename D::mapped_type>(name));
        }
        ptr = &*own;
      } else {
        throw ValueDecodeError("a map of references for a parameter that is not a std::map");
      }
    } else {
      throw ValueDecodeError("argument tag is neither value nor reference");
    }
  }
  decltype(auto) pass() {
    if constexpr (std::is_lvalue_reference_v<P>) {
      return static_cast<const D&>(*ptr);
    } else {
      if (own) return D(std::move(*own));
      return D(*ptr);
    }
  }
};

template <class P, class A>
void encode_arg(Writer& w, A&& a) {
  using D = std::remove_cvref_t<P>;
  if constexpr (is_reference_arg_v<A>) {
    using T = typename std::remove_cvref_t<A>::value_type;
    static_assert(std::is_void_v<T> || std::is_same_v<T, D>,
                  "mpiply: Reference<T> passed for a parameter of another type; use Reference<> "
                  "or Reference<parameter type>");
    w.u8(static_cast<std::uint8_t>(ArgTag::reference));
    w.str(a.name());
  } else if constexpr (is_reference_list_v<A>) {
    using T = typename std::remove_cvref_t<A>::value_type::value_type;
    static_assert(is_std_vector<D>::value,
                  "mpiply: a std::vector of References is passed for a parameter that is not a "
                  "std::vector");
    if constexpr (is_std_vector<D>::value)
      static_assert(std::is_void_v<T> || std::is_same_v<T, typename D::value_type>,
                    "mpiply: Reference<T> passed for a parameter of another type; use "
                    "Reference<> or Reference<parameter type>");
    w.u8(static_cast<std::uint8_t>(ArgTag::reference_list));
    w.u64(a.size());
    for (const auto& ref : a) w.str(ref.name());
  } else if constexpr (is_reference_map_v<A>) {
    using T = typename std::remove_cvref_t<A>::mapped_type::value_type;
    static_assert(is_string_map<D>::value,
                  "mpiply: a std::map of References is passed for a parameter that is not a "
                  "std::map<std::string, V>");
    if constexpr (is_string_map<D>::value)
      static_assert(std::is_void_v<T> || std::is_same_v<T, typename D::mapped_type>,
                    "mpiply: Reference<T> passed for a parameter of another type; use "
                    "Reference<> or Reference<parameter type>");
    w.u8(static_cast<std::uint8_t>(ArgTag::reference_map));
    w.u64(a.size());
    for (const auto& [key, ref] : a) {
      w.str(key);
      w.str(ref.name());
    }
  } else {
    static_assert(std::is_convertible_v<A&&, D>,
                  "mpiply: an argument does not convert to the registered function's parameter "
                  "type");
    w.u8(static_cast<std::uint8_t>(ArgTag::value));
    if constexpr (std::is_same_v<std::remove_cvref_t<A>, D>)
      Codec<D>::encode(w, a);
    else
      Codec<D>::encode(w, static_cast<D>(std::forward<A>(a)));
  }
}

// Encodes one call item: a u32 length, then every argument.
template <class F, class... A>
void encode_call(Writer& w, A&&... a) {
  using Params = typename fn_traits<F>::params;
  static_assert(std::tuple_size_v<Params> == sizeof...(A),
                "mpiply: wrong number of arguments for the registered function");
  std::size_t at = w.pos();
  w.u32(0);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (encode_arg<std::tuple_element_t<I, Params>>(w, std::forward<A>(a)), ...);
  }(std::index_sequence_for<A...>{});
  w.patch<std::uint32_t>(at, static_cast<std::uint32_t>(w.pos() - at - 4));
}

template <class R, class... A>
void invoke_fn(ErasedFn fn, Reader& in, Writer& out, Engine& eng) {
  auto f = reinterpret_cast<R (*)(A...)>(fn);
  std::tuple<ArgSlot<A>...> slots;
  std::apply([&](auto&... s) { (s.load(in, eng), ...); }, slots);
  if (in.remaining() != 0) throw ValueDecodeError("extra bytes after a call's arguments");
  if constexpr (std::is_void_v<R>) {
    std::apply([&](auto&... s) { f(s.pass()...); }, slots);
  } else {
    using V = std::remove_cvref_t<R>;
    const V& r = std::apply([&](auto&... s) -> decltype(auto) { return f(s.pass()...); }, slots);
    Codec<V>::encode(out, r);
  }
}

template <class R, class... A>
bool register_fn(std::string name, R (*f)(A...), bool collective = false,
                 std::string version = {}, bool versioned = false) noexcept {
  static_assert((allowed_param<A> && ...),
                "mpiply: registered functions take arguments by value or const reference");
  // Views and pointers are refused here, where the function is named, rather than deep inside
  // the codec.
  (check_wire_type<std::remove_cvref_t<A>>(), ...);
  if constexpr (!std::is_void_v<R>) check_wire_type<std::remove_cvref_t<R>>();
  return add_function(std::move(name), signature_name<R, A...>(), reinterpret_cast<const void*>(f),
                      reinterpret_cast<ErasedFn>(f), &invoke_fn<R, A...>, collective,
                      std::move(version), versioned);
}
template <class R, class... A>
bool register_fn(std::string name, R (*f)(A...) noexcept, bool collective = false,
                 std::string version = {}, bool versioned = false) noexcept {
  return register_fn(std::move(name), reinterpret_cast<R (*)(A...)>(f), collective,
                     std::move(version), versioned);
}

template <class F>
const FunctionEntry& entry_of(F f) {
  return lookup_by_key(reinterpret_cast<const void*>(f));
}

}  // namespace mpiply::detail
