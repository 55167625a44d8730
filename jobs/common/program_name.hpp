#pragma once
// The name a tool was started under, for its usage text and messages: the build tree has
// build/jobs/dbinfo where an installed copy is mpiply-db, and each should speak of itself.
#include <string>
#include <string_view>

namespace jobs {

// The tool's name as messages print it; main sets it once with set_tool_name.
inline std::string& tool_name() {
  static std::string name;
  return name;
}

// argv[0] without its directory, or `fallback` when argv[0] is empty.
inline void set_tool_name(const char* argv0, std::string_view fallback) {
  std::string_view s = argv0 != nullptr ? argv0 : "";
  if (auto slash = s.rfind('/'); slash != std::string_view::npos) s.remove_prefix(slash + 1);
  tool_name() = std::string(s.empty() ? fallback : s);
}

}  // namespace jobs
