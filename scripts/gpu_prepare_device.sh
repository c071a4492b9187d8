#!/usr/bin/env bash
# Prepares the ignored .device/ folder that travels to the GPU machine (see docs/GPU.md): the SQLite/curl
# headers from ../shared/device/include plus what the GPU machine lacks for the hybench binary: CLI11 and
# fmt (header-only, with tiny CMake package files), re2 (headers, libre2.so.9, a pkg-config file) and the
# OpenSSL headers. Run once on the Debian machine, in the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.device/' .git/info/exclude || echo /.device/ >> .git/info/exclude
D=.device
rm -rf $D && mkdir -p $D/include $D/lib $D/cmake/CLI11 $D/cmake/fmt $D/pkgconfig
cp -r ../shared/device/include/. $D/include/
cp -r /usr/include/CLI /usr/include/fmt /usr/include/re2 /usr/include/openssl $D/include/
cp /usr/include/x86_64-linux-gnu/openssl/*.h $D/include/openssl/
cp -P /usr/lib/x86_64-linux-gnu/libre2.so* $D/lib/
cat > $D/cmake/CLI11/CLI11Config.cmake <<'X'
if(NOT TARGET CLI11::CLI11)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/../../include")
endif()
set(CLI11_FOUND TRUE)
X
cat > $D/cmake/fmt/fmt-config.cmake <<'X'
if(NOT TARGET fmt::fmt)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/../../include"
                        INTERFACE_COMPILE_DEFINITIONS "FMT_HEADER_ONLY=1")
endif()
set(fmt_FOUND TRUE)
set(fmt_VERSION 9.1.0)
X
cat > $D/cmake/fmt/fmt-config-version.cmake <<'X'
set(PACKAGE_VERSION 9.1.0)
set(PACKAGE_VERSION_COMPATIBLE TRUE)
X
cat > $D/pkgconfig/re2.pc.in <<'X'
Name: re2
Description: RE2 (carried)
Version: 0.0.0
Cflags: -pthread -I@D@/include
Libs: -pthread -L@D@/lib -lre2
X
# The test splits the GPU machine's end-to-end stage reads (gpu_run.sh e2e); never GPQA (not to be re-published).
for f in gsm8k/test.jsonl math500/test.jsonl; do mkdir -p $D/datasets/$(dirname $f); cp ../shared/datasets/$f $D/datasets/$f; done
# The upstream Apriel checkpoints (issue #13) for GpuEngine.UpstreamAprielHybridsFollowTheReference.
mkdir -p $D/checkpoints && cp -r ../shared/checkpoints/apriel-hybrid-upstream-tiny $D/checkpoints/
du -sh $D
