#pragma once
// Type identities for the engine namespace (a tag that is equal on every rank of one binary) and
// readable names for error messages.
#include <string>
#include <typeinfo>

namespace mpiply::detail {

std::string demangle(const char* mangled);

template <class T>
const char* type_tag() noexcept {
  return typeid(T).name();
}

template <class T>
std::string type_name() {
  return demangle(typeid(T).name());
}

// "R(A1, A2)" with const and references dropped: the types as they travel on the wire, so two
// ranks whose signatures read the same encode and decode a call the same way.
template <class R, class... A>
std::string signature_name() {
  std::string params;
  ((params += params.empty() ? "" : ", ", params += type_name<A>()), ...);
  return type_name<R>() + "(" + params + ")";
}

}  // namespace mpiply::detail
