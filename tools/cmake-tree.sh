# shellcheck shell=bash
# Source me: configure_tree DIR CMAKE_ARGS... configures the build tree DIR from this checkout.
# It generates for Ninja when ninja is there (tools/setup.sh installs Debian's ninja-build):
# Ninja starts compiles as soon as their inputs are ready and has no per-target dependency
# scanning or recursive make, so a whole build takes less CPU and wall time than with CMake's
# Makefiles (docs/testing.md, "What keeps the run short"). A tree configured earlier with the
# other generator cannot be switched in place: its cache is removed and it is configured afresh
# (the next build then compiles everything once).
configure_tree() {
  local dir=$1
  shift
  local generator="Ninja"
  command -v ninja >/dev/null || generator="Unix Makefiles"
  if [ -f "$dir/CMakeCache.txt" ] &&
     ! grep -qx "CMAKE_GENERATOR:INTERNAL=$generator" "$dir/CMakeCache.txt"; then
    echo "configure_tree: $dir was configured for another generator; configuring it afresh for $generator" >&2
    rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
  fi
  cmake -S . -B "$dir" -G "$generator" "$@"
}
