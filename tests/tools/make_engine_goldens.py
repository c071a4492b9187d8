#!/usr/bin/env python3
"""Makes the engine's parity checkpoints and golden logits (tests/data/engine/). Dev-time only.

  mistral-tiny/   MistralForCausalLM with random weights, saved by transformers (fp32, sharded on purpose);
                  golden logits from transformers' own forward in float64.
  hybrid-tiny/    Apriel-H1 hybrid (model_type apriel_h, layout t,m2,m2,t) with random weights in BF16;
                  golden logits from an independent float64 numpy transcription of spec 3.3 (below), run on
                  the bf16-rounded weights. Also the logits of the *single*-dt-bias variant, so the test can
                  show it tells the two apart.

Usage: python3 tests/tools/make_engine_goldens.py   (needs torch, transformers, safetensors, numpy)
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "data", "engine")
TOKENS = [1, 17, 42, 5, 88, 3, 64, 23, 9, 71, 40, 2, 55, 31, 12, 90]


def mistral():
    from transformers import MistralConfig, MistralForCausalLM
    torch.manual_seed(1234)
    cfg = MistralConfig(vocab_size=320, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=1024,
                        rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=None, tie_word_embeddings=False,
                        bos_token_id=1, eos_token_id=2)
    model = MistralForCausalLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
    d = os.path.join(OUT, "mistral-tiny")
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d, safe_serialization=True, max_shard_size="40KB")
    for f in os.listdir(d):
        if f == "generation_config.json":
            os.remove(os.path.join(d, f))
    model = model.double().eval()
    with torch.no_grad():
        logits = model(torch.tensor([TOKENS])).logits[0].numpy()
    return logits


def rms(x, w, eps):
    return w * (x / np.sqrt((x * x).mean(-1, keepdims=True) + eps))


def rope(x, pos, theta):
    hd = x.shape[-1]
    half = hd // 2
    inv = theta ** (-2.0 * np.arange(half) / hd)
    ang = pos[:, None] * inv[None, :]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


def silu(v):
    return v / (1 + np.exp(-v))


def softplus(v):
    return np.where(v > 20, v, np.log1p(np.exp(np.minimum(v, 20))))


def hybrid_reference(c, W, tokens, bias_times=2):
    """float64 transcription of spec sections 2, 3.2, 3.3 and 3.4 (one sequence, fresh state)."""
    T = len(tokens)
    H, nh, nkv, hd = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    s = c["ssm_cfg"]
    di, dxb, N, K = s["d_inner"], s["d_xb"], s["d_state"], s["d_conv"]
    r = di // dxb
    eps = c["rms_norm_eps"]
    h = W["model.embed_tokens.weight"][tokens]
    pos = np.arange(T, dtype=np.float64)
    for i, kind in enumerate(c["hybrid_block_layout"]):
        p = f"model.layers.{i}."
        u = rms(h, W[p + "input_layernorm.weight"], eps)
        if kind == "t":
            q = (u @ W[p + "self_attn.q_proj.weight"].T).reshape(T, nh, hd)
            k = (u @ W[p + "self_attn.k_proj.weight"].T).reshape(T, nkv, hd)
            v = (u @ W[p + "self_attn.v_proj.weight"].T).reshape(T, nkv, hd)
            q, k = rope(q, pos, c["rope_theta"]), rope(k, pos, c["rope_theta"])
            o = np.zeros((T, nh, hd))
            for j in range(nh):
                g = j // (nh // nkv)
                sc = q[:, j, :] @ k[:, g, :].T / np.sqrt(hd)
                sc = np.where(np.tril(np.ones((T, T))) > 0, sc, -np.inf)
                pr = np.exp(sc - sc.max(-1, keepdims=True))
                pr /= pr.sum(-1, keepdims=True)
                o[:, j, :] = pr @ v[:, g, :]
            mix = o.reshape(T, nh * hd) @ W[p + "self_attn.o_proj.weight"].T
        else:
            m = p + "mixer."
            proj = u @ W[m + "in_proj.weight"].T
            z, xr, br, cf = proj[:, :di], proj[:, di:di + dxb], proj[:, di + dxb:di + 2 * dxb], proj[:, di + 2 * dxb:]
            bias = W[m + "dt_proj.bias"]
            dt = (u @ W[m + "dt_in_proj.weight"].T) @ W[m + "dt_proj.weight"].T + bias  # the biased linear
            delta = softplus(dt + (bias_times - 1) * bias)  # ... and the bias again (spec 3.3.3)
            # repeat x before the conv: x~[c] = x_raw[(c // (N r)) N + c % N]
            idx = np.array([(cc // (N * r)) * N + cc % N for cc in range(di)])
            xt = xr[:, idx]
            w = W[m + "conv1d.weight"][:, 0, :]
            xpad = np.concatenate([np.zeros((K - 1, di)), xt], 0)
            xc = np.stack([silu(W[m + "conv1d.bias"] + (w * xpad[t:t + K].T).sum(-1)) for t in range(T)])
            A = -np.exp(W[m + "A_log"])
            D = W[m + "D"]
            st = np.zeros((di, N))
            y = np.zeros((T, di))
            for t in range(T):
                for cc in range(di):
                    b = br[t, (cc // (N * r)) * N:(cc // (N * r)) * N + N]
                    cv = cf[t, (cc // N) * N:(cc // N) * N + N]
                    st[cc] = np.exp(delta[t, cc] * A[cc]) * st[cc] + delta[t, cc] * b * xc[t, cc]
                    y[t, cc] = cv @ st[cc] + D[cc] * xc[t, cc]
            y = y * silu(z)
            mix = y @ W[m + "out_proj.weight"].T
        h = h + mix
        x2 = rms(h, W[p + "post_attention_layernorm.weight"], eps)
        h = h + (silu(x2 @ W[p + "mlp.gate_proj.weight"].T) * (x2 @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
    return rms(h, W["model.norm.weight"], eps) @ W["lm_head.weight"].T


def hybrid():
    c = {
        "architectures": ["AprielHForCausalLM"], "model_type": "apriel_h", "vocab_size": 320, "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 8, "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "max_position_embeddings": 1024, "sliding_window": None, "tie_word_embeddings": False,
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16",
        "hybrid_block_layout": ["t", "m2", "m2", "t"],
        "ssm_cfg": {"d_state": 4, "d_xb": 16, "d_inner": 32, "dt_rank": 4, "d_conv": 4, "expand": 1,
                    "activation": "silu", "bias": False, "conv_bias": True, "dt_proj_bias": True,
                    "repeat_kv_before_conv": True, "n_qk_heads": 4, "chunk_size": 128, "dt_min": 0.001,
                    "dt_max": 0.1, "dt_init": "random", "dt_scale": 1.0, "dt_init_floor": 0.0001},
    }
    g = torch.Generator().manual_seed(4321)
    H, V, I = 32, 320, 64
    s = c["ssm_cfg"]
    di, dxb, N, R, K = s["d_inner"], s["d_xb"], s["d_state"], s["dt_rank"], s["d_conv"]
    T = {}

    def rnd(name, shape, std):
        T[name] = (torch.randn(shape, generator=g, dtype=torch.float64) * std).to(torch.bfloat16)

    rnd("model.embed_tokens.weight", (V, H), 1.0)
    rnd("lm_head.weight", (V, H), 0.2)
    T["model.norm.weight"] = (1 + 0.1 * torch.randn(H, generator=g, dtype=torch.float64)).to(torch.bfloat16)
    for i, kind in enumerate(c["hybrid_block_layout"]):
        p = f"model.layers.{i}."
        T[p + "input_layernorm.weight"] = (1 + 0.1 * torch.randn(H, generator=g, dtype=torch.float64)).to(torch.bfloat16)
        T[p + "post_attention_layernorm.weight"] = (1 + 0.1 * torch.randn(H, generator=g, dtype=torch.float64)).to(torch.bfloat16)
        rnd(p + "mlp.gate_proj.weight", (I, H), 0.2)
        rnd(p + "mlp.up_proj.weight", (I, H), 0.2)
        rnd(p + "mlp.down_proj.weight", (H, I), 0.15)
        if kind == "t":
            rnd(p + "self_attn.q_proj.weight", (32, H), 0.3)
            rnd(p + "self_attn.k_proj.weight", (16, H), 0.3)
            rnd(p + "self_attn.v_proj.weight", (16, H), 0.3)
            rnd(p + "self_attn.o_proj.weight", (H, 32), 0.2)
        else:
            m = p + "mixer."
            rnd(m + "in_proj.weight", (2 * di + 2 * dxb, H), 0.3)
            rnd(m + "dt_in_proj.weight", (R, H), 0.3)
            rnd(m + "dt_proj.weight", (di, R), 0.3)
            dt = torch.exp(torch.rand(di, generator=g, dtype=torch.float64) * (np.log(0.1) - np.log(1e-3)) + np.log(1e-3))
            T[m + "dt_proj.bias"] = (dt + torch.log(-torch.expm1(-dt))).to(torch.bfloat16)
            rnd(m + "conv1d.weight", (di, 1, K), 0.5)
            rnd(m + "conv1d.bias", (di,), 0.1)
            T[m + "A_log"] = (torch.log(torch.arange(1, N + 1, dtype=torch.float64)).repeat(di, 1)
                              + 0.1 * torch.randn(di, N, generator=g, dtype=torch.float64)).to(torch.bfloat16)
            T[m + "D"] = (1 + 0.1 * torch.randn(di, generator=g, dtype=torch.float64)).to(torch.bfloat16)
            rnd(m + "out_proj.weight", (H, di), 0.2)
    d = os.path.join(OUT, "hybrid-tiny")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    save_file({k: v.contiguous() for k, v in T.items()}, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    W = {k: v.to(torch.float64).numpy() for k, v in T.items()}
    return hybrid_reference(c, W, TOKENS), hybrid_reference(c, W, TOKENS, bias_times=1)


def save_tokenizer(d):
    """A real byte-level BPE tokenizer.json (Tekken pattern) of exactly 320 ids for the tiny checkpoints."""
    sys.path.insert(0, os.path.dirname(__file__))
    from make_tokenizer_goldens import TEKKEN, corpus
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(TEKKEN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<unk>", "<s>", "</s>", "[INST]", "[/INST]"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets")), trainer)
    assert tok.get_vocab_size() == 320, tok.get_vocab_size()
    tok.save(os.path.join(d, "tokenizer.json"))


def main():
    golden = {"tokens": TOKENS,
              "note": "float64 references; see tests/tools/make_engine_goldens.py"}
    golden["mistral_logits"] = np.round(mistral(), 8).tolist()
    two, one = hybrid()
    for d in ("mistral-tiny", "hybrid-tiny"):
        save_tokenizer(os.path.join(OUT, d))
    golden["hybrid_logits"] = np.round(two, 8).tolist()
    golden["hybrid_single_bias_logits"] = np.round(one, 8).tolist()
    with open(os.path.join(OUT, "golden_logits.json"), "w") as f:
        json.dump(golden, f)
    print("max |hybrid 2b - 1b| =", np.abs(two - one).max())


if __name__ == "__main__":
    main()
