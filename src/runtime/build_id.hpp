#pragma once
// The identity of this build of the program (docs/database.md, "Code identity"): the ELF build-id
// of the main executable (GNU ld emits one by default on Debian), else a hash of the bytes of
// /proc/self/exe. Read once. The task database reuses a stored result only when it was made by
// the same build of its function, and start-up refuses ranks that run different builds unless
// the job is MPMD on purpose.
#include <string>

namespace mpiply::detail {

struct BuildId {
  std::string hex;     // lower-case hex digits
  std::string source;  // "build-id" (the ELF note) or "file hash" (of /proc/self/exe)
};

const BuildId& build_id();

// Tests only: makes build_id() return `hex` from now on (as if the program had been rebuilt);
// an empty string goes back to the real one. Call before mpiply::run, not during it.
void override_build_id_for_tests(const std::string& hex);

}  // namespace mpiply::detail
