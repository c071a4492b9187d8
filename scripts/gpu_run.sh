#!/usr/bin/env bash
# One call on the GPU machine (docs/GPU.md): configure + build the CUDA targets, run the GPU tests, the kernel
# microbenchmarks, `hybench bench engine` and the transformers peer; full logs under $OUT, a short table last.
# Usage: scripts/gpu_run.sh STAGE... with stages: build tests micro engine breakdown e2e peer
#   env: MODELS (bench engine models), SHAPE (IN:OUT), REAL_OUT, TARGETS (build targets), BUILD (dir)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
FINAL_OUT=$OUT
OUT=/tmp/hb-gpu-logs   # every log lands here; the end copies the JSONs + summary and a tarball of the rest
rm -rf "$OUT" && mkdir -p "$OUT"
BUILD=${BUILD:-build-gpu}
D=$PWD/.device
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
note() { echo "$*" | tee -a "$SUMMARY"; }
stage_build() {
  local t0=$SECONDS
  sed "s|@D@|$D|g" "$D/pkgconfig/re2.pc.in" > "$D/pkgconfig/re2.pc"
  export PKG_CONFIG_PATH=$D/pkgconfig:${PKG_CONFIG_PATH:-}
  export LD_LIBRARY_PATH=$D/lib:${LD_LIBRARY_PATH:-}
  # No pkg-config there? A stand-in that knows only the carried re2.
  local PKGX=""
  if ! command -v pkg-config >/dev/null; then
    mkdir -p "$D/bin"
    cat > "$D/bin/pkg-config" <<X
#!/bin/sh
for a in "\$@"; do
  case "\$a" in
    --version) echo 0.29.2; exit 0;;
    --modversion) echo 0.0.0; exit 0;;
    --variable=includedir) echo $D/include; exit 0;;
    --variable=libdir) echo $D/lib; exit 0;;
    --variable=*) echo; exit 0;;
    --libs-only-L) echo -L$D/lib; exit 0;;
    --libs-only-l) echo -lre2; exit 0;;
    --libs-only-other) echo -pthread; exit 0;;
    --libs) echo -pthread -L$D/lib -lre2; exit 0;;
    --cflags-only-I) echo -I$D/include; exit 0;;
    --cflags-only-other) echo -pthread; exit 0;;
    --cflags) echo -pthread -I$D/include; exit 0;;
  esac
done
exit 0
X
    chmod +x "$D/bin/pkg-config"
    PKGX="-DPKG_CONFIG_EXECUTABLE=$D/bin/pkg-config"
    echo "pkg-config: stand-in" > "$OUT/pkgconfig.txt"
  fi
  local TP
  TP=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="-include cstdint" \
    -DCMAKE_PREFIX_PATH="$TP;$D/cmake" -DCMAKE_CUDA_ARCHITECTURES=90a -DHYBENCH_CUDA=ON -DHYBENCH_ENGINE=ON \
    -DCLI11_DIR=$D/cmake/CLI11 -Dfmt_DIR=$D/cmake/fmt \
    -DSQLite3_INCLUDE_DIR=$D/include -DSQLite3_LIBRARY=/usr/lib/x86_64-linux-gnu/libsqlite3.so.0 \
    -DCURL_INCLUDE_DIR=$D/include -DCURL_LIBRARY=/usr/lib/x86_64-linux-gnu/libcurl.so.4 \
    -DOPENSSL_INCLUDE_DIR=$D/include -DOPENSSL_CRYPTO_LIBRARY=/usr/lib/x86_64-linux-gnu/libcrypto.so.3 $PKGX \
    > "$OUT/configure.log" 2>&1 || { note "configure FAILED (see configure.log)"; tail -30 "$OUT/configure.log"; return 1; }
  ninja -C "$BUILD" -j16 -k 0 ${TARGETS:-hybench test_cuda_kernels test_cuda_sampling test_gpu_engine bench_cuda_kernels} > "$OUT/build.log" 2>&1
  local rc=$?
  grep -E "error|FAILED" "$OUT/build.log" | head -40
  note "build rc=$rc in $((SECONDS - t0)) s"
}
stage_tests() {
  export LD_LIBRARY_PATH=$D/lib:${LD_LIBRARY_PATH:-}
  export HB_UPSTREAM_CHECKPOINTS=$D/checkpoints/apriel-hybrid-upstream-tiny
  local rc_all=0 t
  for t in tests/kernels/test_cuda_kernels tests/kernels/test_cuda_sampling tests/models/test_gpu_engine tests/models/test_gpu_layer_drops; do
    [ -x "$BUILD/$t" ] || { note "missing $t"; continue; }
    "$BUILD/$t" > "$OUT/$(basename $t).log" 2>&1
    local rc=$?
    [ $rc -ne 0 ] && rc_all=$rc
    grep -E "^\[  (PASSED|FAILED) |\[parity\]|\[upstream\]|Failure|error:|FAILED" "$OUT/$(basename $t).log" | head -30 | tee -a "$SUMMARY"
    note "$(basename $t) rc=$rc"
  done
  note "gpu tests rc=$rc_all"
}
# The product path on the GPU: hybench eval / sweep with native:...,device=cuda (datasets carried in
# .device/datasets by gpu_prepare_device.sh).
stage_e2e() {
  export LD_LIBRARY_PATH=$D/lib:${LD_LIBRARY_PATH:-}
  local H=$BUILD/hybench db=$OUT/e2e.db m
  [ -x "$H" ] || { note "e2e: no hybench binary"; return 1; }
  m="native:preset:${E2E_MODEL:-apriel-h1-15b/h30},device=cuda,context=${E2E_CONTEXT:-2048}"
  "$H" eval --model "$m" --suite gsm8k --limit ${E2E_LIMIT:-128} --concurrency 64 --max-tokens 256 --db "$db" \
    --data-dir "$D/datasets" > "$OUT/e2e_eval.txt" 2> "$OUT/e2e_eval.log"
  note "e2e eval rc=$?"; tail -5 "$OUT/e2e_eval.txt" | tee -a "$SUMMARY"; grep -iE "error|plan" "$OUT/e2e_eval.log" | head -5 | tee -a "$SUMMARY"
  "$H" sweep --model "$m" --shape ${E2E_SHAPE:-1024:256} --concurrency ${E2E_CONC:-1,16,64} --requests 64 --warmup 8 \
    --db "$db" --json "$OUT/e2e_sweep.json" > "$OUT/e2e_sweep.txt" 2> "$OUT/e2e_sweep.log"
  note "e2e sweep rc=$?"; cat "$OUT/e2e_sweep.txt" | tee -a "$SUMMARY"; grep -iE "error" "$OUT/e2e_sweep.log" | head -5 | tee -a "$SUMMARY"
}
stage_micro() {
  export LD_LIBRARY_PATH=$D/lib:${LD_LIBRARY_PATH:-}
  timeout ${MICRO_TIMEOUT:-300} "$BUILD/bench_cuda_kernels" --benchmark_min_time=${MICRO_MIN_TIME:-0.1s} \
    --benchmark_filter="${MICRO_FILTER:-.}" --benchmark_out="$OUT/micro.json" --benchmark_out_format=json \
    > "$OUT/micro.log" 2>&1
  note "micro rc=$?"
  python3 - "$OUT/micro.json" <<'PY' | tee -a "$SUMMARY"
import json, sys
d = json.load(open(sys.argv[1]))
for b in d["benchmarks"]:
    extra = " ".join(f"{k}={b[k]:.3g}" for k in ("TBps", "frac_of_read_ceiling", "TFLOPs", "TBps_incl_io", "tokens_per_s") if k in b)
    print(f"{b['name']:<40} {b['real_time']:10.2f} {b['time_unit']}  {extra}")
PY
}
stage_engine() {
  export LD_LIBRARY_PATH=$D/lib:${LD_LIBRARY_PATH:-}
  local models=${MODELS:-preset:apriel-h1-15b/teacher,preset:apriel-h1-15b/h25,preset:apriel-h1-15b/h30,preset:apriel-h1-15b/h40}
  local shape=${SHAPE:-1:16384}
  "$BUILD/hybench" bench engine --model "$models" --shape "$shape" --batch max --real-out ${REAL_OUT:-1024} \
    --json "$OUT/engine.json" > "$OUT/engine.txt" 2> "$OUT/engine.log"
  note "engine rc=$?"
  grep -E "^device ceiling|^decode b=1 ctx=1:|workload|real run|plan|^prefill" "$OUT/engine.log" | tee -a "$SUMMARY"
  cat "$OUT/engine.txt" | tee -a "$SUMMARY"
}
# Time per kernel class of one decode step (issue #14's "measured breakdown"): one ncu run per model and point,
# only the profiled step's kernels timed (bench engine --profile-points), grouped by scripts/gpu_breakdown.py.
stage_breakdown() {
  export LD_LIBRARY_PATH=$D/lib:${LD_LIBRARY_PATH:-}
  local ncu m tag p
  ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  [ -n "$ncu" ] || { note "breakdown: ncu not found"; return 1; }
  for m in ${MODELS//,/ }; do
    for p in ${PROFILE_POINTS:-1:1 max:8192}; do
      tag="$(basename "$m")_${p/:/_}"
      timeout ${BREAKDOWN_TIMEOUT:-240} "$ncu" --profile-from-start off --clock-control none --cache-control none \
        --metrics gpu__time_duration.sum --csv --log-file "$OUT/ncu_$tag.csv" \
        "$BUILD/hybench" bench engine --model "$m" --shape "${SHAPE:-1:16384}" --batch max --real-out 0 \
        --prefill-tokens 16 --decode-batches 1 --contexts "${p#*:}" --iters 5 --profile-points "$p" \
        --json "$OUT/bd_$tag.json" > "$OUT/bd_$tag.txt" 2> "$OUT/bd_$tag.log"
      note "breakdown $tag rc=$?"
      python3 scripts/gpu_breakdown.py "$OUT/ncu_$tag.csv" --bench "$OUT/bd_$tag.json" --markdown 2>&1 | tee -a "$SUMMARY"
    done
  done
}
stage_peer() {
  PYTHONUNBUFFERED=1 timeout ${PEER_TIMEOUT:-240} python3 tests/tools/peer_transformers.py --json "$OUT/peer.json" \
    ${PEER_ARGS:-} > "$OUT/peer.log" 2>&1
  note "peer rc=$?"
  tail -6 "$OUT/peer.log" | tee -a "$SUMMARY"
}
nvidia-smi --query-gpu=name,memory.total,memory.used,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
date -u | tee -a "$SUMMARY"
for s in "$@"; do
  note "== stage $s ($(date -u +%H:%M:%S))"
  "stage_${s//-/_}"
  cp "$OUT"/*.json "$SUMMARY" "$FINAL_OUT"/ 2>/dev/null
  tar czf "$FINAL_OUT/logs.tgz" -C "$OUT" .
done
echo "================ SUMMARY"
cat "$SUMMARY"
