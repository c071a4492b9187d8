#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang++, ASan + UBSan) into build-fuzz/ and runs each for
# SECONDS (default 20) from its committed seed corpus. Exit 1 when a target crashes (the reproducer is
# left in build-fuzz/fuzz/artifacts/), 0 otherwise. Prints executions and exec/s per target.
#   scripts/fuzz.sh [SECONDS]            FUZZ_BUILD_DIR, JOBS and FUZZ_TARGETS (space-separated) may be set
#   scripts/fuzz.sh --check              exit 0 when clang++ and the libFuzzer runtime exist, 1 otherwise
set -euo pipefail
cd "$(dirname "$0")/.."

have_libfuzzer() {
  command -v clang++ >/dev/null 2>&1 || return 1
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    clang++ -x c++ -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1
}
if [ "${1:-}" = "--check" ]; then
  have_libfuzzer
  exit $?
fi
if ! have_libfuzzer; then
  echo "fuzz: clang++ with the libFuzzer runtime is missing (Debian 12: apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

SECONDS_PER_TARGET=${1:-20}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
TARGETS=${FUZZ_TARGETS:-"fuzz_sse_decoder fuzz_stream_chunk fuzz_response fuzz_math_answer fuzz_safetensors fuzz_http_request fuzz_study fuzz_gate_policy"}

# -O1 and line tables only: the fuzz build is compiled on every CI run, and -O2 -g doubles its time.
CXX=clang++ CC=clang cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-O1 -DHYBENCH_FUZZ=ON \
  -DHYBENCH_ENGINE=OFF -DHYBENCH_CUDA=OFF -DHYBENCH_BUILD_BENCH=OFF >/dev/null
# shellcheck disable=SC2086
ninja -C "$BUILD" -j "$JOBS" $TARGETS >/dev/null

mkdir -p "$BUILD/fuzz/artifacts" "$BUILD/fuzz/work"
# One target per core at a time (JOBS): each is single-threaded, and CI's two cores halve the smoke's wall time.
run_target() {
  local t=$1 work="$BUILD/fuzz/work/$1" log="$BUILD/fuzz/$1.log" runs secs
  # New inputs go to a scratch corpus; the committed seeds are read only.
  mkdir -p "$work"
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$BUILD/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$BUILD/fuzz/artifacts/$t-" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    secs=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
    echo "fuzz: $t: ${runs:-?} executions, ${secs:-?} exec/s, 0 crashes"
  else
    { echo "fuzz: $t: FAILED; see $log and $BUILD/fuzz/artifacts/"; tail -n 30 "$log"; } >&2
    return 1
  fi
}
failed=0
running=0
for t in $TARGETS; do
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit $failed
