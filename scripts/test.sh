#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test that needs no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" -LE gpu --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 600
