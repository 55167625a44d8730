#pragma once
// The table of functions engines may run. Functions are registered by name (MPIPLY_REGISTER at
// namespace scope, or register_function at run time before mpiply::run); the name's 64-bit hash
// travels on the wire, never a pointer. Every rank must register the same set, with the same
// signatures and the same collective flags, checked at start-up.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mpiply {
class Engine;
}

namespace mpiply::detail {

class Reader;
class Writer;

using ErasedFn = void (*)();
// Decodes one call's arguments from in, runs the function, encodes its result into out.
using Invoker = void (*)(ErasedFn fn, Reader& in, Writer& out, Engine& engine);

struct FunctionEntry {
  std::string name;
  std::string signature;  // e.g. "double(double)": parameter and result types as they travel
  std::uint64_t id = 0;
  const void* key = nullptr;  // the function's address on this rank, for call-site look-up
  ErasedFn fn = nullptr;
  Invoker invoke = nullptr;
  // Calls MPI collectives on engine_comm(), so it must run once on every engine at the same
  // time: the views refuse to send it any other way (MPIPLY_REGISTER_COLLECTIVE).
  bool collective = false;
  // Given at registration (MPIPLY_REGISTER_VERSIONED): the function's results stay valid across
  // rebuilds until this string changes; the task database matches stored results by it instead
  // of the build id. Empty: not versioned.
  std::string version;
};

std::uint64_t hash_name(std::string_view name) noexcept;

// Registration never throws (it runs during static initialisation); problems such as two
// functions under one name are kept and reported by mpiply::run on every rank.
// versioned: `version` was given (it must then be non-empty).
bool add_function(std::string name, std::string signature, const void* key, ErasedFn fn,
                  Invoker invoke, bool collective = false, std::string version = {},
                  bool versioned = false) noexcept;
// While frozen (during mpiply::run) the table is read without locking and cannot change.
void freeze_registry(bool frozen) noexcept;
// Removes a name (tests use it to make ranks disagree).
void remove_function(std::string_view name) noexcept;

const FunctionEntry* find_by_id(std::uint64_t id) noexcept;
// Throws UsageError listing the registered names when key is not registered.
const FunctionEntry& lookup_by_key(const void* key);
const FunctionEntry& lookup_by_name(std::string_view name);
std::vector<std::string> registered_names();
// Name and signature of every registered function, sorted by name: what the ranks compare at
// start-up. A collective function's signature ends in " [collective]", so ranks that disagree on
// the flag stop there too (one would wait in a collective the others never enter).
struct NamedSignature {
  std::string name, signature;
};
std::vector<NamedSignature> registered_signatures();
std::vector<std::string> registration_problems();
std::string function_name(std::uint64_t id);

}  // namespace mpiply::detail
