#!/usr/bin/env bash
# Install what mpiply needs on Debian 12 (only what is missing), then configure and build
# into ./build. Safe to run again and again: with everything present it only rebuilds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

packages=(build-essential cmake libopenmpi-dev openmpi-bin libboost-mpi-dev
          libboost-serialization-dev libboost-program-options-dev libfmt-dev catch2)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query is the cheap, offline check; apt is touched only if something is missing.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo -E)   # -E keeps DEBIAN_FRONTEND
  fi
  "${sudo[@]}" apt-get update
  # With recommends: the configuration the tests are run against (Open MPI plugins and all).
  "${sudo[@]}" apt-get install -y "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
