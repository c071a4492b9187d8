#!/usr/bin/env python3
"""Makes the goldens of tokenizer normalizers and added-token flags, checked by tests/models/test_tokenizer.cpp:

  tests/data/tokenizer/normalizers/tokenizer.json   a tiny byte-level BPE (GPT-2 ByteLevel pre-tokenizer,
                                                    ~60 merges) trained by `tokenizers` on a few sentences
  tests/data/tokenizer/normalizers/goldens.json     the texts, the extra added tokens, and variants of that
                                                    tokenizer: each a `normalizer` (and, with_added_tokens, the
                                                    extra added tokens) put into that file, as the C++ test
                                                    does, with what `tokenizers` gives for every text:
                                                    normalizer.normalize_str(text), the ids of
                                                    encode(text, add_special_tokens=False), and where they
                                                    differ the ids with special-token parsing off
                                                    (encode_special_tokens = True); plus "forms":
                                                    NFC/NFD/NFKC/NFKD of 60 seeded random strings.

Usage: pip install tokenizers; python3 tests/tools/make_normalizer_goldens.py"""
import json
import os
import random

import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "tokenizer", "normalizers")
SPECIALS = ["<|endoftext|>", "<s>", "</s>"]

CORPUS = [
    "the fine flow of full width text, naive cafe, sisyphus and the odyssey.",
    "café naïve façade über ñandú tiếng việt",
    "οδυσσευς σοφία και λόγος, σίσυφος",
    "한국어 텍스트, 日本語テキスト, привет мир",
    "hello world, hello words, a word here",
    "istanbul, 2024, 1/2, x2, kg",
] * 10

TEXTS = [
    "",
    "   ",
    "Hello World",
    "Cafe\u0301 nai\u0308ve fac\u0327ade",              # decomposed accents
    "Caf\u00e9 na\u00efve fa\u00e7ade",                  # precomposed
    "e\u0301\u0327 a\u0328\u0301\u0301 o\u0308\u0304",  # canonical ordering and composition
    "\u212b \u2126 \u212a \u0344",                      # singletons and a non-starter decomposition
    "\ud55c\uad6d\uc5b4 \u1100\u1161\u11a8 \uac00\u11a8 \u1100\u1161\u11a7",  # Hangul: syllables, jamo
    "\ufb01ne \ufb02ow \u2460 \uff12\uff10 \uff46\uff55\uff4c\uff4c",
    "\u338f \u00bd x\u00b2 \u216b \u2122 \u01c5 \u01f1 \ufefb \uff76\uff80",  # compatibility
    "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 \u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2 \u039b\u039f\u0393\u039f\u03a3.",  # final sigma
    "\u0130stanbul I\u011eDIR \u0131 \u1e9e \u00df \u212a",  # Turkish dotted I, capital sharp s, Kelvin
    "\U0001F44D\U0001F3FD \U0001F469\u200D\U0001F4BB \u2764\ufe0f",
    "\u041f\u0440\u0438\u0432\u0435\u0442! \u65e5\u672c\u8a9e Ti\u1ebfng Vi\u1ec7t",
    "  padded text \u3000\t",
    "\t\nlines\r\n end \u00a0",
    "wait... what\u2019s \u201cthis\u201d?",
    "\U00011935\U00011930 \U00011938 \ua7cb\ua7da",  # Unicode 13 composition pair, Unicode 16 capitals
    "HELLO hello <s>Hi</s> <|endoftext|>",
]

ADDED_TEXTS = [
    "a <mask> b",
    "x<mask>y   <mask>",
    "  <mask>  [RS]   next",
    "[RS]\u3000tail",
    "a word here, sword words word",
    "word",
    "<TOK> and <tok> and <Tok>",
    "HELLO hello Hello",
    "<s>Hi</s> <S> </s>",
    "\ufb01x and fix",
    "  <s>  padded  </s>  ",
]


def train():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(vocab_size=256 + len(SPECIALS) + 60, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    return json.loads(tok.to_str())


def added(content, tid, special=False, lstrip=False, rstrip=False, single_word=False, normalized=None):
    return {"id": tid, "content": content, "single_word": single_word, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": (not special) if normalized is None else normalized, "special": special}


def variants(base):
    n = len(base["model"]["vocab"])
    extra = [
        added("<mask>", n, special=True, lstrip=True),
        added("[RS]", n + 1, special=True, rstrip=True),
        added("word", n + 2, single_word=True, normalized=False),
        added("<Tok>", n + 3, normalized=True),
        added("hello", n + 4, normalized=True),
        added("\ufb01x", n + 5, normalized=False),
        added("<S>", n + 6, special=True, normalized=True),
    ]
    N = normalizers
    norm = {
        "nfc": N.NFC(), "nfd": N.NFD(), "nfkc": N.NFKC(), "nfkd": N.NFKD(), "lowercase": N.Lowercase(),
        "strip": N.Strip(), "strip-left": N.Strip(left=True, right=False),
        "replace": N.Sequence([N.Replace("\u2019", "'"), N.Replace(Regex("\\.\\.\\."), "\u2026"), N.Replace("  ", " ")]),
        "nfkc-lower-strip": N.Sequence([N.NFKC(), N.Lowercase(), N.Strip(), N.Replace("\u2019", "'"), N.Prepend(" ")]),
        "nfd-lower-nfc": N.Sequence([N.NFD(), N.Lowercase(), N.NFC()]),
    }
    out = [(name, json.loads(n_.__getstate__()), None) for name, n_ in norm.items()]
    out.append(("added", None, extra))
    out.append(("added-nfkc-lower", json.loads(N.Sequence([N.NFKC(), N.Lowercase()]).__getstate__()), extra))
    out.append(("added-strip-prepend", json.loads(N.Sequence([N.Strip(), N.Prepend(" ")]).__getstate__()), extra))
    return out


def forms():
    rng = random.Random(13)
    pool = ([0x41, 0x61, 0x65, 0x6F, 0x55, 0x3B1, 0x3C9, 0x433, 0x1100, 0x1161, 0x11A8, 0x11A7, 0xAC00, 0xAC01, 0x20]
            + [0x300, 0x301, 0x302, 0x308, 0x323, 0x327, 0x328, 0x31B, 0x345, 0x344, 0x5B0, 0x5BC, 0x93C, 0x94D, 0x3099]
            + [0xFB01, 0x2460, 0xFF41, 0x212B, 0x1E9B, 0x1EA0, 0x1F80, 0x3060, 0x304B, 0x309B, 0xF900, 0x2FA1D, 0xFDFA, 0x1D15E])
    cases = []
    for _ in range(60):
        s = "".join(chr(rng.choice(pool)) for _ in range(rng.randint(2, 7)))
        row = {"text": s}
        for f in ("NFC", "NFD", "NFKC", "NFKD"):
            row[f.lower()] = getattr(normalizers, f)().normalize_str(s)
        cases.append(row)
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    base = train()
    with open(os.path.join(OUT, "tokenizer.json"), "w") as f:
        json.dump(base, f, ensure_ascii=False, separators=(",", ":"))
    rows = []
    extra_tokens = None
    for name, norm, extra in variants(base):
        j = json.loads(json.dumps(base))
        j["normalizer"] = norm
        if extra:
            j["added_tokens"] = j["added_tokens"] + extra
            extra_tokens = extra
        tok = Tokenizer.from_str(json.dumps(j))
        texts = TEXTS + (ADDED_TEXTS if extra else [])
        row = {"name": name, "normalizer": norm, "with_added_tokens": bool(extra), "ids": [], "ids_special_as_text": {}}
        if norm is not None:
            row["normalized"] = [tok.normalizer.normalize_str(t) for t in texts]
        for i, t in enumerate(texts):
            ids = tok.encode(t, add_special_tokens=False).ids
            tok.encode_special_tokens = True
            ids_no_special = tok.encode(t, add_special_tokens=False).ids
            tok.encode_special_tokens = False
            row["ids"].append(ids)
            if ids_no_special != ids:
                row["ids_special_as_text"][str(i)] = ids_no_special
        rows.append(row)
    golden = {"schema_version": 1, "tokenizers_version": tokenizers.__version__, "texts": TEXTS, "added_texts": ADDED_TEXTS,
              "added_tokens": extra_tokens, "variants": rows, "forms": forms()}
    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{len(rows)} variants, {sum(len(r['ids']) for r in rows)} texts, {len(golden['forms'])} form cases")


if __name__ == "__main__":
    main()
