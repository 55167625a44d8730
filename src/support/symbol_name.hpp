#pragma once
// The name of the function at an address, for messages about a function the user passed but
// never registered ("the function reg_forgot(int) is not registered").
#include <string>

namespace mpiply::detail {

// The demangled name of the function that starts at `address`, from the dynamic symbols (dladdr)
// or else the symbol table of the file it was loaded from; empty when neither names it (a
// stripped binary). Reads that file, so it is for error paths only.
std::string function_name_at(const void* address);

}  // namespace mpiply::detail
