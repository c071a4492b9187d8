#!/usr/bin/env bash
# Installs hybench's build dependencies from Debian 12 packages (when missing) and builds it into build/.
# Usage: scripts/setup.sh            (Release build; BUILD_DIR, BUILD_TYPE and JOBS may be set)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config git python3
  nlohmann-json3-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev
  libboost-dev libboost-filesystem-dev libcli11-dev libfmt-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev libtorch-dev
  bubblewrap libseccomp-dev  # the MBPP sandbox (docs/SANDBOX.md)
  clang libclang-rt-14-dev)  # clang + the libFuzzer runtime: scripts/fuzz.sh

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
echo "setup: built $BUILD_DIR/hybench" >&2
