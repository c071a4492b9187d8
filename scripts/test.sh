#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test that needs no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Test-only dependency: headless Chromium renders the HTML report in a test (it skips without it).
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null || \
    echo "test: chromium could not be installed; the HTML rendering test will skip" >&2
fi
# Test-only dependency: the official openai SDK drives `hybench serve` in a test (it skips without it).
if ! python3 -c "import openai" >/dev/null 2>&1; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip >/dev/null 2>&1 || true
  fi
  python3 -m pip install --quiet --user openai >/dev/null 2>&1 || \
    python3 -m pip install --quiet --user --break-system-packages openai >/dev/null 2>&1 || \
    echo "test: the openai Python SDK could not be installed; the serve SDK test will skip" >&2
fi
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" -LE gpu --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 600
# The fuzz smoke (issue #12): each libFuzzer target ~20 s under ASan + UBSan, when clang and its libFuzzer
# runtime are there (setup installs them); FUZZ_SECONDS=0 skips it.
if [ "${FUZZ_SECONDS:-20}" != "0" ]; then
  if bash scripts/fuzz.sh --check; then
    JOBS="${JOBS:-$(nproc)}" bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
  else
    echo "test: clang++ with libFuzzer is missing; the fuzz smoke is skipped" >&2
  fi
fi
