#!/usr/bin/env python3
"""Grades one JSONL with hybench and with Math-Verify and lists where they disagree (development only).

Input lines: {"gold": "...", "completion": "...", optional "finish_reason", "label" (true/false: an
adjudicated verdict), "style", "id"}. hybench grades through `hybench score --suite math500` (whole process,
timed); Math-Verify (PyPI `math-verify`, never a product or CI dependency) grades with its defaults:
verify(parse("$GOLD$"), parse(COMPLETION)), also in its own process and timed. Math-Verify has no truncation
rule, so it grades a "length" completion like any other.

Prints: per grader, agreement with the labels (overall, by style family, bare boxed answers apart) and the
whole-process time; the pairs where the two graders disagree go to --disagreements (JSONL), with both
verdicts, hybench's extraction and reason, and the label.
With --grader build/suites/bench/grade_math_jsonl the same grading runs in a minimal process, which times the
grading itself (hybench no longer links LibTorch, so both now start in milliseconds).
Usage: crosscheck_math_verify.py INPUT.jsonl [--hybench build/hybench | --grader PATH] [--disagreements FILE]
"""
import argparse
import collections
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def run_math_verify(path, out_path):
    """Grades every line with Math-Verify, in this (child) process; writes one verdict per line."""
    from math_verify import parse, verify  # imported here so that the timing covers the import

    with open(path) as f, open(out_path, "w") as out:
        for line in f:
            d = json.loads(line)
            try:
                ok = bool(verify(parse("$" + d["gold"] + "$"), parse(d["completion"])))
            except Exception as e:  # noqa: BLE001 - a grader failure is a "wrong" verdict, counted
                ok = False
            out.write(json.dumps(ok) + "\n")


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        sys.exit(f"crosscheck: {' '.join(cmd[:3])} failed with exit code {proc.returncode}: {proc.stderr.strip()[:400]}")
    return wall, cpu


def family(style):
    """"right/boxed" -> "right": the labelled-correct, labelled-wrong and bare-answer families."""
    return style.split("/")[0] if style else "unlabelled"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("--hybench", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "hybench"))
    ap.add_argument("--grader", help="grade_math_jsonl binary to use instead of `hybench score`")
    ap.add_argument("--disagreements", default="/tmp/math_crosscheck_disagreements.jsonl")
    ap.add_argument("--mv-worker", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--by-style", action="store_true", help="also print agreement per style")
    a = ap.parse_args()
    if a.mv_worker:
        run_math_verify(*a.mv_worker)
        return
    tool = a.grader or a.hybench
    if not os.path.exists(tool):
        sys.exit(f"crosscheck: no grader at {tool}; build it (ninja -C build hybench grade_math_jsonl) or pass --hybench/--grader")
    rows = [json.loads(l) for l in open(a.input) if l.strip()]
    if not rows:
        sys.exit(f"crosscheck: {a.input} has no lines")
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "in.jsonl")
        with open(inp, "w") as f:
            for r in rows:
                f.write(json.dumps({"gold": r["gold"], "completion": r["completion"],
                                    "finish_reason": r.get("finish_reason", "stop")}) + "\n")
        hb_out, mv_out = os.path.join(tmp, "hb.jsonl"), os.path.join(tmp, "mv.jsonl")
        cmd = [a.grader, inp, hb_out] if a.grader else [a.hybench, "score", "--suite", "math500", "--input", inp, "--output", hb_out]
        hb_wall, hb_cpu = timed(cmd)
        mv_wall, mv_cpu = timed([sys.executable, os.path.abspath(__file__), "x", "--mv-worker", inp, mv_out])
        hb = [json.loads(l) for l in open(hb_out)]
        mv = [json.loads(l) for l in open(mv_out)]
    if len(hb) != len(rows) or len(mv) != len(rows):
        sys.exit(f"crosscheck: {len(rows)} inputs but {len(hb)} hybench and {len(mv)} Math-Verify verdicts")

    stats = collections.defaultdict(lambda: [0, 0, 0, 0, 0])  # n, hb agrees, mv agrees, hb false pos, mv false pos
    disagreements = []
    for r, h, m in zip(rows, hb, mv):
        hv = bool(h.get("correct", False))
        if "label" in r:
            keys = {"all", family(r.get("style"))}
            if a.by_style and r.get("style"):
                keys.add(r["style"])
            for key in keys:
                s = stats[key]
                s[0] += 1
                s[1] += hv == r["label"]
                s[2] += m == r["label"]
                s[3] += hv and not r["label"]
                s[4] += m and not r["label"]
        if hv != m:
            disagreements.append({"id": r.get("id"), "style": r.get("style"), "gold": r["gold"],
                                  "completion": r["completion"][-300:], "label": r.get("label"), "hybench": hv,
                                  "math_verify": m, "extracted": h.get("extracted"), "reason": h.get("reason")})
    with open(a.disagreements, "w") as f:
        for d in disagreements:
            f.write(json.dumps(d) + "\n")
    print(f"{len(rows)} completions; hybench and Math-Verify disagree on {len(disagreements)} (listed in {a.disagreements})")
    print(f"whole process: hybench {hb_wall:.2f} s wall, {hb_cpu:.2f} s CPU; Math-Verify {mv_wall:.2f} s wall, "
          f"{mv_cpu:.2f} s CPU; ratio {mv_wall / max(hb_wall, 1e-9):.1f}x wall, {mv_cpu / max(hb_cpu, 1e-9):.1f}x CPU")
    if stats:
        print(f"{'set':<34} {'n':>6} {'hybench':>9} {'MathVerify':>10} {'hb FP':>6} {'MV FP':>6}")
        for key in sorted(stats, key=lambda k: (k != "all", k)):
            n, hba, mva, hfp, mfp = stats[key]
            print(f"{key:<34} {n:>6} {100 * hba / n:>8.1f}% {100 * mva / n:>9.1f}% {hfp:>6} {mfp:>6}")


if __name__ == "__main__":
    main()
