#!/usr/bin/env python3
"""Time per kernel class of one decode step, from Nsight Compute.

`hybench bench engine --profile-points B:CTX` runs one decode step of each listed point between
cudaProfilerStart and cudaProfilerStop; run it under

    ncu --profile-from-start off --clock-control none --cache-control none \
        --metrics gpu__time_duration.sum --csv --log-file ncu.csv \
        build-gpu/hybench bench engine ... --profile-points 1:1 --json engine.json

and this script groups the kernels of each profiled step into classes (weight GEMMs, attention, m2 mixer,
norms, ...), and sets their sum against the step time the bench measured (CUDA-graph replays) and against the
step's byte floor at the read ceiling measured in the same run:

    scripts/gpu_breakdown.py ncu.csv --bench engine.json [--steps-from plain.json] [--markdown]

Each profiled kernel ran alone (ncu serialises them), so the difference between the graph step and the sum
of its kernels is launch and dependency gaps inside the graph. ncu slows every graph replay of the process,
also outside the profiled range (an H200 teacher b=1 step read 28.5 ms under ncu, 8.7 ms without), so take
the step times from a bench engine run without ncu: --steps-from its JSON. Development tool; not used by
hybench.
"""
import argparse
import csv
import io
import json
import re
import sys

# First match wins: our own kernels before the library patterns that could also match them.
CLASSES = [
    ("gemv (hybench)", r"gemv_kernel|gemv_fused_kernel"),
    ("weight GEMM (cuBLAS)", r"gemm|nvjet|xmma|cutlass|gemv|splitK|cublas"),
    ("attention", r"decode_attn|attn_combine|flash|fmha|sdpa|attention"),
    ("m2 mixer", r"m2_|conv1d|selective|ssm"),
    ("RMSNorm", r"rms"),
    ("RoPE", r"rope"),
    ("SwiGLU", r"swiglu"),
    ("sampling", r"sample|argmax|topk|softmax"),
    ("copies / elementwise", r"elementwise|copy|fill|memcpy|memset|cat|index|gather|scatter|reduce"),
]
UNIT_US = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3, "second": 1e6, "s": 1e6}


def classify(name):
    low = name.lower()
    for label, pattern in CLASSES:
        if re.search(pattern, low):
            return label
    return "other"


def read_kernels(path):
    """(kernel name, µs) of every profiled kernel, in launch order."""
    text = open(path, encoding="utf-8", errors="replace").read()
    start = text.find('"ID"')
    if start < 0:
        sys.exit(f"gpu_breakdown: {path}: no ncu CSV header (was ncu run with --csv and did it profile anything?)")
    rows = []
    for row in csv.DictReader(io.StringIO(text[start:])):
        if row.get("Metric Name") != "gpu__time_duration.sum":
            continue
        value = float(row["Metric Value"].replace(",", ""))
        rows.append((int(row["ID"]), row["Kernel Name"], value * UNIT_US.get(row.get("Metric Unit", "nsecond"), 1e-3)))
    rows.sort()
    return [(name, us) for _, name, us in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ncu_csv")
    ap.add_argument("--bench", help="the bench engine --json file of the same run (step times, byte floors, ceiling)")
    ap.add_argument("--steps", type=int, default=0,
                    help="profiled steps in the file (default: one per --profile-points entry found in the bench JSON, else 1)")
    ap.add_argument("--steps-from", help="a bench engine --json file measured without ncu: the graph step times")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    kernels = read_kernels(args.ncu_csv)
    if not kernels:
        sys.exit(f"gpu_breakdown: {args.ncu_csv}: no gpu__time_duration.sum rows")
    bench = json.load(open(args.bench)) if args.bench else None
    points = []  # (model, batch, context, step_ms, floor_ms)
    if bench:
        read_tbs = bench.get("ceiling", {}).get("read_tbs", 0)
        for m in bench.get("models", []):
            for p in m.get("decode_points", []):
                if [p["batch"], p["context"]] in [list(x) for x in m.get("profiled_points", [])]:
                    floor = p["bytes_gb"] * 1e9 / (read_tbs * 1e12) * 1e3 if read_tbs else 0
                    points.append((m.get("model", "?"), p["batch"], p["context"], p["step_ms"], floor))
    if args.steps_from:
        plain = {}
        for m in json.load(open(args.steps_from)).get("models", []):
            for p in m.get("decode_points", []):
                plain[(m.get("model"), p["batch"], p["context"])] = p["step_ms"]
        for i, (model, b, ctx, step_ms, floor_ms) in enumerate(points):
            if (model, b, ctx) not in plain:
                sys.exit(f"gpu_breakdown: {args.steps_from} has no decode point {model} b={b} ctx={ctx}")
            points[i] = (model, b, ctx, plain[(model, b, ctx)], floor_ms)
    steps = args.steps or max(1, len(points))
    per_step = len(kernels) // steps
    if per_step * steps != len(kernels):
        print(f"gpu_breakdown: {len(kernels)} kernels do not split into {steps} equal steps; treating them as one",
              file=sys.stderr)
        steps, per_step = 1, len(kernels)
    for s in range(steps):
        part = kernels[s * per_step:(s + 1) * per_step]
        by_class = {}
        for name, us in part:
            label = classify(name)
            n, t, names = by_class.get(label, (0, 0.0, set()))
            names.add(name[:60])
            by_class[label] = (n + 1, t + us, names)
        total = sum(us for _, us in part)
        head = points[s] if s < len(points) else None
        title = f"step {s + 1}: {len(part)} kernels, {total / 1e3:.3f} ms of kernel time"
        if head:
            model, b, ctx, step_ms, floor_ms = head
            title = (f"{model} b={b} ctx={ctx}: graph step {step_ms:.3f} ms, byte floor {floor_ms:.3f} ms "
                     f"at the measured read ceiling; {len(part)} kernels, {total / 1e3:.3f} ms")
        print(("### " if args.markdown else "") + title)
        if args.markdown:
            print("\n| class | kernels | ms | % of kernel time |\n|---|---:|---:|---:|")
        for label, (n, t, names) in sorted(by_class.items(), key=lambda kv: -kv[1][1]):
            if args.markdown:
                print(f"| {label} | {n} | {t / 1e3:.3f} | {100 * t / total:.1f} % |")
            else:
                print(f"  {label:24s} {n:5d} kernels {t / 1e3:9.3f} ms {100 * t / total:5.1f} %"
                      + (f"   e.g. {sorted(names)[0]}" if label == "other" else ""))
        if head:
            gap = head[3] - total / 1e3
            line = f"launch/dependency gaps (graph step - kernel sum): {gap:.3f} ms ({100 * gap / head[3]:.1f} % of the step)"
            print(f"| gaps | | {gap:.3f} | |" if args.markdown else "  " + line)
        print()


if __name__ == "__main__":
    main()
