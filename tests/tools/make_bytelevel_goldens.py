#!/usr/bin/env python3
"""Makes the byte-level artefacts that check hybench against transformers token for token:

  tests/data/engine/bytelevel-tiny/   a tiny MistralForCausalLM (random weights, sliding_window 5) and its
                                      GPT-2-style byte-level BPE tokenizer (ByteLevel pre-tokenizer with
                                      use_regex=true, ByteLevel post-processor: no BOS), both written by
                                      transformers' save_pretrained;
  tests/data/tokenizer/gpt2-bos/      the same vocabulary with add_prefix_space=true and a
                                      Sequence[ByteLevel, TemplateProcessing "<s> $A </s>"] post-processor;
  tests/data/engine/bytelevel_goldens.json
      - for every tricky string and both tokenizers: the ids `tokenizers` gives with and without special
        tokens, and its decoding;
      - greedy continuations computed by transformers in float64 (eager attention, sliding window active),
        with the smallest top-1/top-2 logit gap, and the float64 logits of every position of one sequence;
      - the same logits with full attention, to prove that the window changes them.

Usage: python3 tests/tools/make_bytelevel_goldens.py   (needs torch, transformers, tokenizers, safetensors)"""
import json
import os

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import MistralConfig, MistralForCausalLM, PreTrainedTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
CKPT = os.path.join(DATA, "engine", "bytelevel-tiny")
BOS_TOK = os.path.join(DATA, "tokenizer", "gpt2-bos")
GOLDENS = os.path.join(DATA, "engine", "bytelevel_goldens.json")
WINDOW = 5
SPECIALS = ["<|endoftext|>", "<s>", "</s>"]

CORPUS = [
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away.",
    "Once upon a time there was a small model that wanted to count: one, two, three, 12, 345, 6789.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n",
    "I'm here, you're there, we've been, they'll go, it's fine, don't stop, he'd say.",
    "Caf\u00e9 cr\u00e8me, na\u00efve fa\u00e7ade, \u00fcber, \u00f1and\u00fa. \u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440. \u4e2d\u6587\u6d4b\u8bd5\u3002",
    "Emoji: \U0001F642 \U0001F680 \U0001F469\u200D\U0001F4BB and more \U0001F44D\U0001F3FD.",
    "Spaces   and\ttabs\nand\r\nnew lines\n\n\nend.",
    "What is 2+2? Think step by step. First, 2+2 = 4. The answer is 4.",
] * 20

STRINGS = [
    "Hello world",
    " leading space",
    "trailing spaces   ",
    "   ",
    "",
    "two  spaces and   three",
    "a\nb\n\nc\r\nd\te",
    "Numbers 12345 and 3.14159, 1,000,000!",
    "I'm sure they'll say we've done it, don't you? It'S 'LL",
    "Caf\u00e9 na\u00efve \u00fcber \u00f1and\u00fa",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1",
    "\u4e2d\u6587\u6d4b\u8bd5\uff0c\u65e5\u672c\u8a9e\u3001\ud55c\uad6d\uc5b4",
    "emoji \U0001F642\U0001F680 ZWJ \U0001F469\u200D\U0001F469\u200D\U0001F467 skin \U0001F44D\U0001F3FD",
    "def f(x):\n    return x**2  # square\n",
    "<s>special</s> text <|endoftext|>",
    "!!!???... ---",
    "\u00a0non-breaking\u2003em space\u3000ideographic",
]

PROMPTS = [
    "Once upon a time",
    "The quick brown fox jumps over the lazy dog. The dog",
    "def add(a, b):\n    return",
    "I'm here, you're there, we've been",
    "Caf\u00e9 \U0001F642 12345",
]
NEW_TOKENS = 16


def train_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(vocab_size=384, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def bos_variant(tok):
    t = Tokenizer.from_str(tok.to_str())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    bos, eos = t.token_to_id("<s>"), t.token_to_id("</s>")
    t.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
                                      special_tokens=[("<s>", bos), ("</s>", eos)]),
    ])
    return t


def greedy(model, ids, n):
    """Greedy continuation by full recomputation (no cache), with the smallest top-1/top-2 gap seen."""
    seq, gap = list(ids), float("inf")
    for _ in range(n):
        with torch.no_grad():
            logits = model(torch.tensor([seq])).logits[0, -1]
        top = torch.topk(logits, 2).values
        gap = min(gap, float(top[0] - top[1]))
        seq.append(int(torch.argmax(logits)))
    return seq[len(ids):], gap


def main():
    torch.manual_seed(1234)
    raw = train_tokenizer()
    fast = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   unk_token=None)
    os.makedirs(CKPT, exist_ok=True)
    fast.save_pretrained(CKPT)
    bos_tok = bos_variant(raw)
    os.makedirs(BOS_TOK, exist_ok=True)
    bos_tok.save(os.path.join(BOS_TOK, "tokenizer.json"))

    cfg = MistralConfig(vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=256,
                        sliding_window=WINDOW, rope_theta=10000.0, initializer_range=0.25,
                        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, tie_word_embeddings=False)
    cfg._attn_implementation = "eager"
    model = MistralForCausalLM(cfg).float().eval()
    model.save_pretrained(CKPT, safe_serialization=True)

    # The reference: the saved checkpoint reloaded by transformers, in float64, eager attention.
    ref = MistralForCausalLM.from_pretrained(CKPT, torch_dtype=torch.float64, attn_implementation="eager").eval()
    assert ref.config.sliding_window == WINDOW
    full_cfg = MistralConfig.from_pretrained(CKPT)
    full_cfg.sliding_window = None
    full = MistralForCausalLM.from_pretrained(CKPT, config=full_cfg, torch_dtype=torch.float64, attn_implementation="eager").eval()

    tok_goldens = []
    for s in STRINGS:
        row = {"text": s}
        for name, t in [("plain", fast._tokenizer), ("bos", bos_tok)]:
            with_sp = t.encode(s, add_special_tokens=True).ids
            without = t.encode(s, add_special_tokens=False).ids
            row[name] = {"ids": with_sp, "ids_no_special": without,
                         "decoded": t.decode(with_sp, skip_special_tokens=False)}
        # transformers' own call (what a user of the checkpoint gets) must agree with the library's.
        assert fast(s)["input_ids"] == row["plain"]["ids"], s
        tok_goldens.append(row)

    generations = []
    for p in PROMPTS:
        ids = fast(p)["input_ids"]
        toks, gap = greedy(ref, ids, NEW_TOKENS)
        assert len(ids) + NEW_TOKENS > WINDOW
        generations.append({"prompt": p, "input_ids": ids, "greedy": toks, "min_top2_gap": gap,
                            "greedy_full_attention": greedy(full, ids, NEW_TOKENS)[0]})

    seq = generations[1]["input_ids"] + generations[1]["greedy"]
    with torch.no_grad():
        lw = ref(torch.tensor([seq])).logits[0]
        lf = full(torch.tensor([seq])).logits[0]
    logits = {"input_ids": seq, "logits": [[round(float(v), 7) for v in row] for row in lw],
              "max_diff_full_attention": float((lw - lf).abs().max())}
    assert logits["max_diff_full_attention"] > 1e-2

    import tokenizers
    import transformers
    out = {"_comment": "made by tests/tools/make_bytelevel_goldens.py; regenerate only on purpose",
           "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                        "tokenizers": tokenizers.__version__},
           "sliding_window": WINDOW, "tokenizer": tok_goldens, "generations": generations, "prefill": logits}
    with open(GOLDENS, "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    gaps = [g["min_top2_gap"] for g in generations]
    differ = sum(g["greedy"] != g["greedy_full_attention"] for g in generations)
    print(f"vocab {len(fast)}; min top-2 gap {min(gaps):.4f}; {differ}/{len(generations)} greedy sequences differ "
          f"with full attention; prefill max |window - full| {logits['max_diff_full_attention']:.3f}")


if __name__ == "__main__":
    main()
