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

}  // namespace mpiply::detail
