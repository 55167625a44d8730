#!/usr/bin/env bash
# The `install-deb` test: make the Debian package from this build (cpack -G DEB), install it
# into this machine with dpkg -i, build tests/consumer against the installed copy with CMake
# (find_package, no hints) and with pkg-config (no PKG_CONFIG_PATH), run both on 2 ranks, run
# mpiply-db from PATH, and remove the package again with dpkg -r, also when a step fails.
#   install-deb.sh BUILD_DIR SOURCE_DIR WORK_DIR CXX VERSION MPIEXEC [MPIEXEC_PREFLAGS...]
# Exit 77 (ctest SKIP_RETURN_CODE) where it cannot run: not root, no dpkg, or an mpiply package
# that this test did not install is already there (it is left alone).
set -euo pipefail
build=$1 source=$2 work=$3 cxx=$4 version=$5 mpiexec=$6
shift 6
preflags=("$@")

skip() { echo "install-deb: SKIPPED: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to run dpkg -i (CI runs as root)"
command -v dpkg >/dev/null && command -v cpack >/dev/null || skip "needs dpkg and cpack"
installed() { [ "$(dpkg-query -W -f='${Status}' mpiply 2>/dev/null || true)" = "install ok installed" ]; }
if installed; then
  skip "an mpiply package is already installed; remove it (dpkg -r mpiply) to run this test"
fi

rm -rf "$work"
mkdir -p "$work"
# From here on, whatever happens, the package does not stay installed.
cleanup() {
  if installed; then
    echo "install-deb: removing the package (dpkg -r mpiply)"
    dpkg -r mpiply >/dev/null || echo "install-deb: dpkg -r mpiply failed" >&2
  fi
}
trap cleanup EXIT

step() { echo "install-deb: $1"; }

step "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/package") >"$work/cpack.log" 2>&1 || {
  cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/package/mpiply_"$version"_*.deb)
dpkg-deb --info "$deb" | grep -E "Package|Version|Depends"

step "dpkg -i $(basename "$deb")"
dpkg -i "$deb"
for f in /usr/bin/mpiply-db /usr/bin/mpiply-farm /usr/bin/mpiply-resume /usr/include/mpiply/mpiply.hpp \
         /usr/share/mpiply/slurm/mpirun.sbatch; do
  [ -e "$f" ] || { echo "install-deb: the package did not install $f" >&2; exit 1; }
done

check_output() {   # check_output FILE: the consumer's lines at 2 ranks
  grep -q "twice(21) = 42" "$1" && grep -q "team of 1" "$1" && grep -q "mpiply $version" "$1" || {
    echo "install-deb: unexpected consumer output:" >&2; cat "$1" >&2; exit 1; }
}

step "CMake consumer against /usr"
cmake -S "$source/tests/consumer" -B "$work/cmake-consumer" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
found=$(grep '^mpiply_DIR:' "$work/cmake-consumer/CMakeCache.txt" | cut -d= -f2)
[[ "$found" == /usr/lib* ]] || { echo "install-deb: find_package found $found, not the package" >&2; exit 1; }
cmake --build "$work/cmake-consumer" >/dev/null
"$mpiexec" -n 2 "${preflags[@]}" "$work/cmake-consumer/consumer" | tee "$work/cmake-consumer.out"
check_output "$work/cmake-consumer.out"

step "pkg-config consumer against /usr"
unset PKG_CONFIG_PATH
pcdir=$(pkg-config --variable=pcfiledir mpiply)
[[ "$pcdir" == /usr/lib* ]] || { echo "install-deb: pkg-config found mpiply.pc in $pcdir" >&2; exit 1; }
# shellcheck disable=SC2046 # the flags are words
"$cxx" -std=c++20 "$source/tests/consumer/main.cpp" $(pkg-config --cflags --libs mpiply) \
  -o "$work/pkgconfig-consumer"
"$mpiexec" -n 2 "${preflags[@]}" "$work/pkgconfig-consumer" | tee "$work/pkgconfig-consumer.out"
check_output "$work/pkgconfig-consumer.out"

step "mpiply-db --help from PATH"
[ "$(command -v mpiply-db)" = /usr/bin/mpiply-db ] || {
  echo "install-deb: mpiply-db on PATH is $(command -v mpiply-db || echo nothing)" >&2; exit 1; }
help=$(mpiply-db --help)
grep -q "^usage: mpiply-db " <<<"$help" || {
  echo "install-deb: mpiply-db --help does not name itself: $help" >&2; exit 1; }

step "dpkg -r mpiply"
dpkg -r mpiply
if installed || [ -e /usr/bin/mpiply-db ] || [ -e /usr/include/mpiply/mpiply.hpp ]; then
  echo "install-deb: dpkg -r left the package or its files behind" >&2; exit 1
fi
echo "install-deb: PASS"
