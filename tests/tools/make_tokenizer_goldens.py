#!/usr/bin/env python3
"""Makes tests/data/tokenizer/: two small byte-level BPE tokenizer.json files trained with HF `tokenizers`
(one with the Mistral-Nemo/Tekken pre-tokenizer regex, one with Llama-3's, ignore_merges on) and the golden
ids the reference library gives for a set of strings. When the full Mistral-Nemo tokenizer.json is given
(converted from mistral-common's tekken_240718.json by transformers), its golden ids are recorded too; that
file is too big to commit, so the C++ test uses it only when HB_TEKKEN_TOKENIZER points at it.

Usage: python3 tests/tools/make_tokenizer_goldens.py [SHARED_DATASETS_DIR] [FULL_TEKKEN_TOKENIZER_JSON]"""
import json
import os
import sys

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

OUT = os.path.join(os.path.dirname(__file__), "..", "data", "tokenizer")
TEKKEN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?"
          r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
          r"\s+(?!\S)|\s+")
SPECIALS = ["<unk>", "<s>", "</s>", "[INST]", "[/INST]"]

STRINGS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Numbers: 12345, 3.14159 and 1,000,000!",
    "  leading spaces, trailing spaces   ",
    "a   b\n\n\tc    \n  d",
    "def f(x):\n    return x**2  # square\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "Héllo wörld, ñandú, café crème",
    "Привет, мир! Καλημέρα κόσμε",
    "中文测试，日本語のテキスト、한국어",
    "emoji 🙂🚀 and ZWJ 👩‍💻 done",
    "I'm sure they'LL say we've done it, don't you?",
    "CamelCaseWords and HTTPServer and iPhone",
    "<s>[INST] What is 2+2? [/INST]",
    "<|system|>\nYou are helpful.\n<|end|>\n<|user|>\nHi\n<|end|>\n<|assistant|>\nHere are my reasoning steps:\n",
    "path/to/file.txt and C:\\dir\\x and https://example.com/a?b=c",
    "\r\n\r\nwindows\r\nlines",
    "x" * 40 + " " + "ab" * 10,
    "",
]


def corpus(datasets_dir):
    texts = list(STRINGS)
    for suite, field in [("gsm8k/test.jsonl", "question"), ("math500/test.jsonl", "problem"), ("mbpp/test.jsonl", "text")]:
        p = os.path.join(datasets_dir, suite)
        if os.path.exists(p):
            with open(p) as f:
                for i, line in enumerate(f):
                    if i >= 400:
                        break
                    texts.append(json.loads(line).get(field, ""))
    return texts


def train(pattern, ignore_merges, texts):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1500, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


def main():
    datasets_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets")
    texts = corpus(datasets_dir)
    golden = {"strings": STRINGS, "ids": {}}
    for name, pattern, ignore in [("tekken-small", TEKKEN, False), ("llama3-small", LLAMA3, True)]:
        tok = train(pattern, ignore, texts)
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        golden["ids"][name] = [tok.encode(s, add_special_tokens=False).ids for s in STRINGS]
    if len(sys.argv) > 2:
        full = Tokenizer.from_file(sys.argv[2])
        golden["ids"]["tekken-full"] = [full.encode(s, add_special_tokens=False).ids for s in STRINGS]
    with open(os.path.join(OUT, "golden_ids.json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
