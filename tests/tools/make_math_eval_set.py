#!/usr/bin/env python3
"""Builds a labelled evaluation set of whole solution texts for the MATH500 golds (development only).

The set is written at run time from the MATH500 file of the shared datasets and is never committed. Every
line is {"id", "gold", "completion", "finish_reason", "label", "style"}: the label says whether a careful human
grader counts the completion as correct, by construction of the text:
  - the answer stated in a style models use (boxed, Minerva sentence, "Answer:" line, a markdown heading,
    prose, the last display, the MATH reference solution itself with or without its box) as the gold or an
    equivalent rewrite (\\dfrac, a/b, "x =", separators, \\left( \\right)) -> correct;
  - the same styles with a different value, several boxes of which one is the gold, a sentence listing the
    gold with another number, a text that says there is no answer, the right value mid-text but another at the
    end, another problem's reference solution -> wrong;
  - a completion cut by the token limit (finish_reason "length") is correct only when it already holds an
    explicit final answer (the truncation rule of docs/SUITES.md).
Usage: make_math_eval_set.py [--datasets DIR] [--out FILE] [--seed N] [--bare | --solutions]
  --bare writes bare-answer pairs instead ({"gold", "completion": "\\boxed{answer}", "label"});
  --solutions writes the 500 reference solutions as completions (the speed comparison's input).
"""
import argparse
import json
import os
import random
import re


def load(datasets):
    with open(os.path.join(datasets, "math500", "test.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def canon(s):
    s = s.replace("\\dfrac", "\\frac").replace("\\left", "").replace("\\right", "").replace(" ", "")
    return s.replace("\\!", "").replace("{,}", "").replace(",\\!", "")


INT = re.compile(r"^-?\d+$")
FRAC = re.compile(r"^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$")


def equivalents(gold, rng):
    """Rewrites of the gold a grader must accept."""
    out = [gold]
    if "\\frac" in gold:
        out.append(gold.replace("\\frac", "\\dfrac"))
    m = FRAC.match(gold)
    if m:
        out.append(f"{m.group(1)}{m.group(2)}/{m.group(3)}")
        den = int(m.group(3))
        if all(p in (2, 5) for p in factor(den)) and den <= 1000:
            v = int(m.group(2)) / den
            out.append(("-" if m.group(1) else "") + ("%.6f" % v).rstrip("0").rstrip("."))
    if INT.match(gold):
        n = int(gold)
        if abs(n) >= 1000:
            out.append(f"{n:,}")
            out.append(f"{n:,}".replace(",", "{,}"))
            out.append(f"{n:,}".replace(",", "\\,"))
        out.append(f"x = {gold}")
        out.append(f"{gold}.0" if rng.random() < 0.3 else f"\\text{{{gold}}}")
    if gold.startswith("(") and gold.endswith(")") and "," in gold:
        out.append("\\left" + gold[:-1] + "\\right)")
    return out


def factor(n):
    fs, d = [], 2
    while d * d <= n:
        while n % d == 0:
            fs.append(d)
            n //= d
        d += 1
    if n > 1:
        fs.append(n)
    return fs


def wrong_value(gold, others, rng):
    if INT.match(gold):
        n = int(gold)
        return str(rng.choice([n + 1, n - 1, 2 * n + 3, n + 10]))  # never n itself
    m = FRAC.match(gold)
    if m and m.group(2) != m.group(3):
        return f"{m.group(1)}\\frac{{{m.group(3)}}}{{{m.group(2)}}}"
    for _ in range(50):
        o = rng.choice(others)
        if canon(o) != canon(gold) and not (INT.match(o) and INT.match(gold) and int(o) == int(gold)):
            return o
    return gold + "+1"


FILLER = [
    "First, let me restate what we need. We set up the equation from the conditions given in the problem.",
    "Let's think step by step. Consider the cases separately: when $n = 1$ we get $3$, and when $n = 2$ we get $\\frac{6}{11}$.",
    "We can simplify using $\\sqrt{3}$ and $2^{10} = 1024$. Substituting back, the expression becomes manageable.",
    "Step 1: collect the terms. Step 2: factor $x^2 - 5x + 6 = (x-2)(x-3)$. Step 3: check each candidate.",
    "Using the formula $A = \\frac{1}{2}bh$ with $b = 8$ and $h = 5$ gives $20$ for the smaller triangle.",
    "Note that $7 \\cdot 13 = 91$, and $91 + 9 = 100$, which is a perfect square.",
]


def reasoning(rng, k=2):
    return "\n\n".join(rng.sample(FILLER, k))


def styles(ans, rng):
    """(style, text, explicit) for an answer value."""
    r = reasoning(rng, rng.choice([1, 2, 3]))
    simple = len(ans) < 25 and "\\begin" not in ans
    out = [
        ("boxed", f"{r}\n\nTherefore, the answer is $\\boxed{{{ans}}}$.", True),
        ("boxed_display", f"{r}\n\nSo\n\\[\n\\boxed{{{ans}}}\n\\]", True),
        ("minerva", f"{r}\nFinal Answer: The final answer is ${ans}$. I hope it is correct.", True),
        ("answer_line", f"{r}\n\nAnswer: ${ans}$", True),
        ("heading", f"{r}\n\n**Final Answer**\n\n$${ans}$$", True),
        ("last_display", f"{r}\n\nPutting everything together, we obtain\n$$ {ans} $$", False),
        ("last_inline", f"{r} Hence the value we want is ${ans}$.", False),
    ]
    if simple:
        out.append(("answer_is_plain", f"{r}\n\nThe answer is {ans}.", True))
    if INT.match(ans):
        out.append(("prose_number", f"{r}\n\nAdding everything up, there are {ans} possibilities in total.", False))
    return out


def build(rows, seed):
    rng = random.Random(seed)
    golds = [r["answer"] for r in rows]
    out = []

    def add(row, style, text, label, finish="stop"):
        out.append({"id": row["unique_id"], "gold": row["answer"], "completion": text, "finish_reason": finish,
                    "label": label, "style": style})

    for i, row in enumerate(rows):
        gold = row["answer"]
        eq = rng.choice(equivalents(gold, rng))
        bad = wrong_value(gold, golds, rng)
        for style, text, explicit in rng.sample(styles(eq, rng), 3):
            add(row, "right/" + style, text, True)
        for style, text, explicit in rng.sample(styles(bad, rng), 2):
            add(row, "wrong/" + style, text, False)
        sol = row["solution"]
        add(row, "right/reference_solution", sol, True)
        unboxed = re.sub(r"\\boxed\{", "{", sol)
        if unboxed != sol and rng.random() < 0.5:
            add(row, "right/reference_unboxed", unboxed, True)
        other = rows[(i + 1 + rng.randrange(len(rows) - 1)) % len(rows)]
        if canon(other["answer"]) != canon(gold):
            add(row, "wrong/other_solution", other["solution"], False)
        r = reasoning(rng)
        kind = rng.randrange(6)
        if kind == 0:
            add(row, "wrong/two_boxes", f"{r}\n\nThe candidates are $\\boxed{{{gold}}}$ and $\\boxed{{{bad}}}$.", False)
        elif kind == 1 and INT.match(gold) and INT.match(bad):
            add(row, "wrong/listed_pair", f"{r}\n\nThe two smallest values are {gold} and {bad}.", False)
        elif kind == 2:
            add(row, "wrong/no_answer", f"{r}\n\nWe tried ${gold}$ but it fails, so there is no solution.", False)
        elif kind == 3:
            add(row, "wrong/changed_mind", f"At first I thought it was ${gold}$.\n\n{r}\n\nThe answer is ${bad}$.", False)
        elif kind == 4:
            # Cut by the token limit: an explicit answer already given counts, a trailing value does not.
            add(row, "right/truncated_boxed", f"{r}\n\nSo the answer is $\\boxed{{{gold}}}$. Let me double-check by",
                True, "length")
        else:
            add(row, "wrong/truncated_unmarked", f"{r}\n\nNow we have ${gold}$, and then we need to consider the",
                False, "length")
    return out


def build_bare(rows, seed):
    rng = random.Random(seed)
    golds = [r["answer"] for r in rows]
    out = []
    for row in rows:
        gold = row["answer"]
        for eq in equivalents(gold, rng)[:3]:
            out.append({"id": row["unique_id"], "gold": gold, "completion": f"\\boxed{{{eq}}}", "label": True,
                        "style": "bare/right"})
        out.append({"id": row["unique_id"], "gold": gold, "completion": f"\\boxed{{{wrong_value(gold, golds, rng)}}}",
                    "label": False, "style": "bare/wrong"})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--datasets", default=os.environ.get("HB_TEST_DATASETS_DIR", os.path.join(here, "..", "..", "..", "shared", "datasets")))
    ap.add_argument("--out", default="/tmp/math_eval_set.jsonl")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--bare", action="store_true")
    ap.add_argument("--solutions", action="store_true")
    a = ap.parse_args()
    rows = load(a.datasets)
    if a.solutions:
        lines = [{"id": r["unique_id"], "gold": r["answer"], "completion": r["solution"], "label": True,
                  "style": "right/reference_solution"} for r in rows]
    else:
        lines = build_bare(rows, a.seed) if a.bare else build(rows, a.seed)
    with open(a.out, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    print(f"wrote {len(lines)} lines to {a.out}")


if __name__ == "__main__":
    main()
