#!/usr/bin/env python3
"""Writes the data tables of the tokenizer normalizers (models/unicode_normalize.cpp) and of added-token word
boundaries (models/added_tokens.cpp). Dev-time only; the product never runs Python.

  models/unicode_normalize_table.inc  canonical combining classes, full canonical and compatibility
                                      decompositions, canonical composition pairs, simple lowercase mappings
  models/unicode_word_table.inc       the code points of regex's Unicode \\w (Alphabetic, M, Nd, Pc,
                                      Join_Control), used by added tokens' single_word

Which Unicode: HF `tokenizers` normalizes with the crate unicode-normalization-alignments 0.1.12, whose
tables are Unicode 9.0.0, while this script reads Python's unicodedata (a later version). Normalization data of
an assigned character never changes between versions (Unicode's stability policy), so the tables keep only the
characters assigned in Unicode 9.0 (DerivedAge, from the `unicode-age` package): the result is the 9.0 data.
Lowercase is Rust's char::to_lowercase (what `tokenizers`' Lowercase applies character by character), of the
Unicode version of the Rust that built the `tokenizers` wheel, usually newer than Python's: mappings of code
points that Python's unicodedata does not know yet are taken from `tokenizers` itself, and counted in the header.

Every single code point is cross-checked against `tokenizers` (NFD, NFKD, NFC, NFKC, Lowercase); any
difference fails the script.

Usage: pip install tokenizers unicode-age regex
       python3 tests/tools/gen_unicode_normalize_table.py   (writes both files)"""
import bisect
import os
import sys
import unicodedata

import regex
from tokenizers import normalizers
from unicode_age.unicode_age_db import iter_spans

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "models")
NORM_VERSION = (9, 0)  # unicode-normalization-alignments 0.1.12 (tables.rs UNICODE_VERSION)

SPANS = sorted(iter_spans())
STARTS = [s[0] for s in SPANS]


def age(cp):
    i = bisect.bisect_right(STARTS, cp) - 1
    if i >= 0 and SPANS[i][0] <= cp <= SPANS[i][1]:
        return (SPANS[i][2], SPANS[i][3])
    return None


def in_norm_version(cp):
    a = age(cp)
    return a is not None and a <= NORM_VERSION


ALL = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
HANGUL = range(0xAC00, 0xD7A4)


def full_decomposition(cp, compat):
    form = "NFKD" if compat else "NFD"
    return [ord(c) for c in unicodedata.normalize(form, chr(cp))]


def build():
    ccc = {}
    canon, compat = {}, {}
    pairs = []
    for cp in ALL:
        if not in_norm_version(cp):
            continue
        c = chr(cp)
        if unicodedata.combining(c):
            ccc[cp] = unicodedata.combining(c)
        if cp in HANGUL or not unicodedata.decomposition(c):
            continue
        d = full_decomposition(cp, False)
        k = full_decomposition(cp, True)
        if d != [cp]:
            canon[cp] = d
        if k != [cp]:
            compat[cp] = k
        # A primary composite: canonical decomposition that recomposes to itself (not excluded, not a singleton,
        # not a non-starter decomposition).
        one = unicodedata.decomposition(c).split()
        if d != [cp] and not one[0].startswith("<") and len(one) == 2 and unicodedata.normalize("NFC", c) == c:
            pairs.append((int(one[0], 16), int(one[1], 16), cp))
    lower = {}
    for cp in ALL:
        lo = chr(cp).lower()
        if lo != chr(cp):
            lower[cp] = [ord(x) for x in lo]
    return ccc, canon, compat, sorted(pairs), lower


def check_and_extend(lower):
    """Cross-checks every code point against `tokenizers`; returns the lowercase mappings added from it."""
    cps = [cp for cp in ALL if cp != 0x0A]
    text = "\n".join(chr(cp) for cp in cps)
    added = 0
    for name in ("NFD", "NFKD", "NFC", "NFKC", "Lowercase"):
        out = getattr(normalizers, name)().normalize_str(text).split("\n")
        assert len(out) == len(cps), name
        for cp, got in zip(cps, out):
            c = chr(cp)
            if name == "Lowercase":
                want = "".join(map(chr, lower.get(cp, [cp])))
                if got != want:
                    if unicodedata.category(c) != "Cn":
                        sys.exit(f"Lowercase of U+{cp:04X}: tokenizers {got!r}, Python {want!r} (an assigned character)")
                    lower[cp] = [ord(x) for x in got]
                    added += 1
            else:
                want = unicodedata.normalize(name, c) if in_norm_version(cp) else c
                if got != want:
                    sys.exit(f"{name} of U+{cp:04X}: tokenizers {got!r}, tables {want!r}")
    return added


def rows(items, per_line):
    out = []
    for i in range(0, len(items), per_line):
        out.append(",".join(items[i:i + per_line]) + ",")
    return "\n".join(out)


def write_normalize(ccc, canon, compat, pairs, lower, lower_added, tok_version):
    # Combining classes as ranges of equal class.
    ranges = []
    for cp in sorted(ccc):
        if ranges and ranges[-1][1] == cp - 1 and ranges[-1][2] == ccc[cp]:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, ccc[cp]])
    pool = []
    where = {}

    def place(seq):
        key = tuple(seq)
        if key not in where:
            where[key] = len(pool)
            pool.extend(seq)
        return where[key]

    decomp = []
    for cp in sorted(set(canon) | set(compat)):
        d, k = canon.get(cp, []), compat.get(cp, [])
        decomp.append((cp, place(d) if d else 0, len(d), place(k) if k else 0, len(k)))
    simple = sorted((cp, v[0]) for cp, v in lower.items() if len(v) == 1)
    multi = {cp: v for cp, v in lower.items() if len(v) != 1}
    assert list(multi) == [0x130] and multi[0x130] == [0x69, 0x307], multi  # handled in code
    lines = [
        "// Generated by tests/tools/gen_unicode_normalize_table.py. Do not edit.",
        f"// Normalization data: Unicode {NORM_VERSION[0]}.{NORM_VERSION[1]}.0, the version of unicode-normalization-alignments",
        f"// 0.1.12 that HF tokenizers uses, taken from Python's unicodedata {unicodedata.unidata_version} restricted to the",
        f"// characters assigned in {NORM_VERSION[0]}.{NORM_VERSION[1]} (DerivedAge). Lowercase: Python's {unicodedata.unidata_version}"
        f" simple mappings plus {lower_added}",
        f"// of newer characters taken from tokenizers {tok_version} (Rust's char::to_lowercase); U+0130 -> i U+0307 is in code.",
        f"// Cross-checked code point by code point against tokenizers {tok_version}: NFD, NFKD, NFC, NFKC, Lowercase.",
        "",
        "// {first, last, canonical combining class}",
        "const uint32_t kCombiningClass[][3] = {",
        rows([f"{{0x{a:X},0x{b:X},{c}}}" for a, b, c in ranges], 6),
        "};",
        "// Full (recursive) decompositions: {code point, canonical offset, length, compatibility offset, length} into",
        "// kDecompositionPool; a length of 0 means none of that kind. Hangul syllables are decomposed in code.",
        "const uint32_t kDecomposition[][5] = {",
        rows([f"{{0x{cp:X},{a},{b},{c},{d}}}" for cp, a, b, c, d in decomp], 5),
        "};",
        "const uint32_t kDecompositionPool[] = {",
        rows([f"0x{v:X}" for v in pool], 14),
        "};",
        "// Canonical composition: {first, second, composite}, sorted; primary composites only (exclusions removed).",
        "const uint32_t kComposition[][3] = {",
        rows([f"{{0x{a:X},0x{b:X},0x{c:X}}}" for a, b, c in pairs], 5),
        "};",
        "// Simple lowercase mappings {code point, lowercase}, sorted.",
        "const uint32_t kLowercase[][2] = {",
        rows([f"{{0x{a:X},0x{b:X}}}" for a, b in simple], 7),
        "};",
    ]
    with open(os.path.join(MODELS, "unicode_normalize_table.inc"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"ccc ranges {len(ranges)}, decompositions {len(decomp)}, pool {len(pool)}, pairs {len(pairs)}, "
          f"lowercase {len(simple)} (+{lower_added} from tokenizers)", file=sys.stderr)


def write_word():
    word = regex.compile(r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]")
    ranges = []
    for cp in ALL:
        if word.match(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    lines = [
        "// Generated by tests/tools/gen_unicode_normalize_table.py. Do not edit.",
        f"// Word characters of Unicode regexes (\\w = Alphabetic, M, Nd, Pc, Join_Control; UTS #18), from the Python",
        f"// `regex` package {regex.__version__}: what `tokenizers` (regex-syntax) uses for added tokens' single_word.",
        "// {first, last}",
        rows([f"{{0x{a:X},0x{b:X}}}" for a, b in ranges], 8),
    ]
    with open(os.path.join(MODELS, "unicode_word_table.inc"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"word ranges {len(ranges)}", file=sys.stderr)


def main():
    import tokenizers
    ccc, canon, compat, pairs, lower = build()
    added = check_and_extend(lower)
    write_normalize(ccc, canon, compat, pairs, lower, added, tokenizers.__version__)
    write_word()


if __name__ == "__main__":
    main()
