#!/usr/bin/env python3
"""Peer run for `hybench bench engine` (issue #6): the same random-weight 15B teacher shape in Hugging Face
transformers on the same GPU, the way a user would run it (eager generate with the default dynamic cache,
bf16 weights, greedy). Prints decode tokens/s per (batch, prompt, new tokens) point and writes JSON.

  python3 tests/tools/peer_transformers.py --json peer.json [--layers 50] [--points 1:1:256,8:1:256,8:2048:128]
"""
import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default="")
    ap.add_argument("--layers", type=int, default=50)
    ap.add_argument("--points", default="1:1:256,8:1:256,13:1:256,8:2048:128")
    args = ap.parse_args()
    import transformers
    from transformers import MistralConfig, MistralForCausalLM

    cfg = MistralConfig(vocab_size=131072, hidden_size=5120, intermediate_size=14336, num_hidden_layers=args.layers,
                        num_attention_heads=32, num_key_value_heads=8, head_dim=128, rope_theta=1e6,
                        max_position_embeddings=65536, sliding_window=None, tie_word_embeddings=False)
    torch.manual_seed(0)
    t0 = time.time()
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = MistralForCausalLM(cfg)
    torch.set_default_dtype(torch.float32)
    model.eval()
    load_s = time.time() - t0
    params = sum(p.numel() for p in model.parameters())
    out = {"transformers": transformers.__version__, "torch": torch.__version__, "device": torch.cuda.get_device_name(0),
           "params": params, "layers": args.layers, "load_s": load_s, "points": []}
    print(f"transformers {transformers.__version__} torch {torch.__version__}: {params/1e9:.2f}B params in {load_s:.1f}s",
          flush=True)
    for spec in args.points.split(","):
        b, p, n = (int(x) for x in spec.split(":"))
        ids = torch.randint(3, cfg.vocab_size, (b, p), device="cuda")
        kw = dict(do_sample=False, max_new_tokens=n, min_new_tokens=n, pad_token_id=0)
        try:
            with torch.inference_mode():
                model.generate(ids, do_sample=False, max_new_tokens=4, min_new_tokens=4, pad_token_id=0)  # warm-up
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                t = time.time()
                model.generate(ids, **kw)
                torch.cuda.synchronize()
                dt = time.time() - t
            point = {"batch": b, "prompt": p, "new_tokens": n, "seconds": dt, "tokens_per_s": b * n / dt,
                     "ms_per_step": 1e3 * dt / n, "peak_gib": torch.cuda.max_memory_allocated() / 2**30}
        except Exception as e:  # noqa: BLE001  (report, keep going)
            point = {"batch": b, "prompt": p, "new_tokens": n, "error": str(e)[:300]}
            torch.cuda.empty_cache()
        out["points"].append(point)
        print(json.dumps(point), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
