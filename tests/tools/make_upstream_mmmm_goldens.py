#!/usr/bin/env python3
"""Makes tests/data/engine/upstream_mmmm_fp64.json: float64 logits of the authors' all-m2 tiny checkpoint
(../shared/checkpoints/apriel-hybrid-upstream-tiny/mmmm) from the independent spec transcription of
make_engine_goldens.py, for the three prompts of upstream_logits.json.

Why: in upstream_logits.json the "hyb-mmmm" entry is a byte-for-byte copy of "hyb-tmmt" (same ids, same
logits), which no all-m2 model can produce. The transcription reproduces the tmmt entry to ~6e-5 (the upstream
fp32 model's rounding), so it stands in for the missing mmmm reference; this script prints both checks.

Usage: python3 tests/tools/make_upstream_mmmm_goldens.py [SHARED_CHECKPOINTS_DIR]"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_engine_goldens import hybrid_reference  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "checkpoints"),
                    "apriel-hybrid-upstream-tiny")
OUT = os.path.join(HERE, "..", "data", "engine", "upstream_mmmm_fp64.json")


def transcribe(name, prompts):
    c = json.load(open(os.path.join(ROOT, name, "config.json")))
    W = {k: v.astype(np.float64) for k, v in load_file(os.path.join(ROOT, name, "model.safetensors")).items()}
    return [hybrid_reference(c, W, p["input_ids"]) for p in prompts]


def main():
    up = json.load(open(os.path.join(ROOT, "upstream_logits.json")))
    assert up["hyb-mmmm"] == up["hyb-tmmt"], "the mmmm entry is no longer a copy of tmmt: use upstream_logits.json"
    for ref, p in zip(transcribe("tmmt", up["hyb-tmmt"]), up["hyb-tmmt"]):
        err = float(np.abs(ref - np.array(p["logits"])).max())
        print(f"tmmt: max |fp64 transcription - upstream| = {err:.2g}")
        assert err < 1e-4
    rows = []
    for ref, p in zip(transcribe("mmmm", up["hyb-mmmm"]), up["hyb-mmmm"]):
        print(f"mmmm: max |fp64 transcription - upstream file (a tmmt copy)| = {float(np.abs(ref - np.array(p['logits'])).max()):.3g}")
        rows.append({"input_ids": p["input_ids"], "logits": np.round(ref, 6).tolist()})
    with open(OUT, "w") as f:
        json.dump({"_comment": "made by tests/tools/make_upstream_mmmm_goldens.py", "hyb-mmmm": rows}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
