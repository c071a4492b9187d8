#!/usr/bin/env python3
"""`hybench serve` driven by the official `openai` Python SDK, as real clients call it.

Usage: serve_openai_sdk_test.py HYBENCH_BINARY CHECKPOINT_DIR
Exits 77 (ctest: skipped) with a message when the SDK is not importable.
Covers: models list/retrieve, chat and completions with logprobs, n with seeds, prompt batches, token-id
prompts, echo with prompt logprobs (lm-eval's log-likelihood request), streaming with usage, stop strings,
the tokenizer routes, errors as the SDK's exception types, 405, and the access log.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

try:
    import openai
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIP: the openai SDK is not importable ({e}); pip install openai", file=sys.stderr)
    sys.exit(77)

BINARY, CHECKPOINT = sys.argv[1], sys.argv[2]
NAME = "hybrid-tiny"


class Server:
    def __init__(self):
        self.log = tempfile.NamedTemporaryFile(prefix="serve_sdk_", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--model", "native:" + CHECKPOINT, "--port", "0", "--served-model-name", NAME, "--threads", "1"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("hybench serve printed no port; its log: " + open(self.log.name).read())
        self.port = json.loads(line)["port"]
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return open(self.log.name).read()


SERVER = None


def client():
    return openai.OpenAI(base_url=SERVER.base + "/v1", api_key="unused", max_retries=0, timeout=60)


def http(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(SERVER.base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def tokenize(text):
    status, _, body = http("POST", "/tokenize", {"prompt": text, "add_special_tokens": False})
    assert status == 200, body
    return body["tokens"]


class ServeWithTheOpenAISDK(unittest.TestCase):
    def test_models(self):
        c = client()
        self.assertEqual([m.id for m in c.models.list().data], [NAME])
        self.assertEqual(c.models.retrieve(NAME).id, NAME)
        with self.assertRaises(openai.NotFoundError):
            c.models.retrieve("gpt-4")

    def test_chat_logprobs_n_and_seeds(self):
        c = client()
        kw = dict(model=NAME, messages=[{"role": "user", "content": "Say something."}], max_tokens=6, temperature=1.0,
                  seed=11, logprobs=True, top_logprobs=3, extra_body={"ignore_eos": True})
        r = c.chat.completions.create(n=3, **kw)
        self.assertEqual([ch.index for ch in r.choices], [0, 1, 2])
        self.assertEqual(r.usage.completion_tokens, 18)
        for ch in r.choices:
            self.assertEqual(ch.finish_reason, "length")
            content = ch.logprobs.content
            self.assertEqual(len(content), 6)
            for entry in content:
                self.assertLessEqual(entry.logprob, 0.0)
                tops = [t.logprob for t in entry.top_logprobs]
                self.assertEqual(len(tops), 3)
                self.assertEqual(tops, sorted(tops, reverse=True))
                self.assertIsInstance(entry.bytes, list)
        # n samples are independent: different seeds give different texts (6 tokens from 320 at T=1).
        texts = [ch.message.content for ch in r.choices]
        self.assertGreater(len(set(texts)), 1, texts)
        # ... and the whole request is reproducible; n=1 with the seed is the first choice.
        again = c.chat.completions.create(n=3, **kw)
        self.assertEqual([ch.message.content for ch in again.choices], texts)
        one = c.chat.completions.create(n=1, **kw)
        self.assertEqual(one.choices[0].message.content, texts[0])

    def test_chat_stream_with_usage_and_logprobs(self):
        c = client()
        kw = dict(model=NAME, messages=[{"role": "user", "content": "Stream please"}], max_tokens=8, temperature=0,
                  extra_body={"ignore_eos": True})
        plain = c.chat.completions.create(**kw)
        stream = c.chat.completions.create(stream=True, stream_options={"include_usage": True}, logprobs=True, top_logprobs=2, **kw)
        text, lps, usage, finish = "", [], None, None
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
                self.assertEqual(chunk.choices, [])
                continue
            ch = chunk.choices[0]
            text += ch.delta.content or ""
            if ch.logprobs and ch.logprobs.content:
                lps.extend(ch.logprobs.content)
            finish = ch.finish_reason or finish
        self.assertEqual(text, plain.choices[0].message.content)
        self.assertIsNotNone(usage)
        self.assertEqual(usage.completion_tokens, 8)
        self.assertEqual(usage.prompt_tokens, plain.usage.prompt_tokens)
        self.assertEqual(len(lps), 8)
        self.assertEqual(finish, "length")

    def test_completions_batches_and_token_prompts(self):
        c = client()
        r = c.completions.create(model=NAME, prompt=["one", "two two"], n=2, max_tokens=3, temperature=0.8, seed=3,
                                 logprobs=2, extra_body={"ignore_eos": True})
        self.assertEqual(sorted(ch.index for ch in r.choices), [0, 1, 2, 3])
        for ch in r.choices:
            lp = ch.logprobs
            self.assertEqual(len(lp.tokens), 3)
            self.assertEqual(len(lp.token_logprobs), 3)
            self.assertEqual(len(lp.text_offset), 3)
            for tok, top in zip(lp.token_logprobs, lp.top_logprobs):
                self.assertGreaterEqual(len(top), 2)
                self.assertIn(tok, top.values())
        self.assertEqual(r.usage.completion_tokens, 12)
        ids = tokenize("one")
        by_ids = c.completions.create(model=NAME, prompt=[ids, ids], max_tokens=4, temperature=0, extra_body={"ignore_eos": True})
        self.assertEqual(by_ids.choices[0].text, by_ids.choices[1].text)
        self.assertEqual(by_ids.usage.prompt_tokens, 2 * len(ids))

    def test_echo_prompt_logprobs_as_lm_eval_asks(self):
        c = client()
        context, continuation = tokenize("The cat sat"), tokenize(" on the mat")
        prompt = context + continuation
        # lm-eval's loglikelihood payload (local-completions): echo, max_tokens 1, logprobs 1, temperature 0.
        r = c.completions.create(model=NAME, prompt=[prompt], echo=True, max_tokens=1, logprobs=1, temperature=0, seed=1234)
        lp = r.choices[0].logprobs
        self.assertEqual(len(lp.token_logprobs), len(prompt) + 1)
        self.assertIsNone(lp.token_logprobs[0])
        self.assertIsNone(lp.top_logprobs[0])
        scores = lp.token_logprobs[len(context):-1]
        self.assertEqual(len(scores), len(continuation))
        self.assertTrue(all(s is not None and s <= 0 for s in scores))
        # The generated (greedy) token's logprob is its top alternative: lm-eval's is_greedy test.
        self.assertEqual(lp.token_logprobs[-1], max(lp.top_logprobs[-1].values()))
        # Scoring alone (max_tokens 0) gives the same prompt scores.
        r0 = c.completions.create(model=NAME, prompt=prompt, echo=True, max_tokens=0, logprobs=0, temperature=0)
        lp0 = r0.choices[0].logprobs
        self.assertEqual(len(lp0.token_logprobs), len(prompt))
        for a, b in zip(lp0.token_logprobs[1:], lp.token_logprobs[1:len(prompt)]):
            self.assertAlmostEqual(a, b, places=5)
        self.assertEqual(r0.usage.completion_tokens, 0)
        self.assertTrue(math.isfinite(sum(scores)))  # what lm-eval reports as the continuation's log-likelihood
        # Scoring agrees with generation: the greedy next token, appended to the prompt and scored, gets the
        # logprob it was generated with.
        g = c.completions.create(model=NAME, prompt=prompt, max_tokens=1, logprobs=0, temperature=0,
                                 extra_body={"return_tokens_as_token_ids": True, "ignore_eos": True}).choices[0].logprobs
        self.assertTrue(g.tokens[0].startswith("token_id:"), g.tokens)
        self.assertAlmostEqual(g.token_logprobs[0], lp.token_logprobs[-1], places=5)
        s = c.completions.create(model=NAME, prompt=prompt + [int(g.tokens[0][9:])], echo=True, max_tokens=0, logprobs=0)
        self.assertAlmostEqual(s.choices[0].logprobs.token_logprobs[-1], g.token_logprobs[0], places=4)
        # Echo of text returns the prompt text before the completion.
        t = c.completions.create(model=NAME, prompt="Hello", echo=True, max_tokens=2, temperature=0, extra_body={"ignore_eos": True})
        self.assertTrue(t.choices[0].text.startswith("Hello"))

    def test_stop_strings(self):
        c = client()
        kw = dict(model=NAME, prompt="Once upon a time", max_tokens=16, temperature=0, extra_body={"ignore_eos": True})
        full = c.completions.create(**kw).choices[0].text
        stop = next((full[i:i + 2] for i in range(3, len(full) - 2) if full[i:i + 2].strip() and full.find(full[i:i + 2]) == i), None)
        if stop is None:
            self.skipTest(f"no usable stop string in {full!r}")
        cut = c.completions.create(stop=[stop], **kw).choices[0]
        self.assertEqual(cut.text, full[:full.find(stop)])
        self.assertEqual(cut.finish_reason, "stop")

    def test_errors_are_sdk_exceptions_naming_the_field(self):
        c = client()
        cases = [
            (lambda: c.completions.create(model=NAME, prompt="x", n=0), "n"),
            (lambda: c.chat.completions.create(model=NAME, messages=[]), "messages"),
            (lambda: c.completions.create(model=NAME, prompt="x", max_tokens=10**9), "max_tokens"),
            (lambda: c.completions.create(model=NAME, prompt="x", extra_body={"temperature": "hot"}), "temperature"),
            (lambda: c.completions.create(model=NAME, prompt=[1, "a"]), "prompt"),
            (lambda: c.completions.create(model=NAME, prompt=[[1, 99999]]), "prompt"),
            (lambda: c.chat.completions.create(model=NAME, messages=[{"role": "user", "content": "x"}], top_logprobs=2), "top_logprobs"),
        ]
        for call, field in cases:
            with self.assertRaises(openai.BadRequestError) as e:
                call()
            self.assertIn(field, str(e.exception))
            self.assertNotIn("json.exception", str(e.exception))
        with self.assertRaises(openai.NotFoundError):
            c.completions.create(model="gpt-4", prompt="x", max_tokens=1)

    def test_wrong_method_and_tokenizer_routes(self):
        status, headers, body = http("GET", "/v1/completions")
        self.assertEqual(status, 405)
        self.assertEqual(headers.get("Allow"), "POST")
        self.assertIn("error", body)
        status, headers, _ = http("POST", "/v1/models")
        self.assertEqual((status, headers.get("Allow")), (405, "GET"))
        ids = tokenize("Hello world")
        status, _, body = http("POST", "/detokenize", {"tokens": ids})
        self.assertEqual((status, body["prompt"]), (200, "Hello world"))
        status, _, info = http("GET", "/tokenizer_info")
        self.assertEqual(status, 200)
        self.assertIn("eos_token", info)


def main():
    global SERVER
    SERVER = Server()
    try:
        result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    finally:
        log = SERVER.stop()
    access = [l for l in log.splitlines() if "access: " in l]
    ok = result.wasSuccessful()
    # One access-log line per request, with method, path, status, tokens and duration.
    if not any("POST /v1/chat/completions 200 prompt_tokens=" in l and "completion_tokens=18" in l and "duration_ms=" in l for l in access):
        print("FAIL: no access-log line for the n=3 chat request:\n" + "\n".join(access[:20]), file=sys.stderr)
        ok = False
    if not any("GET /v1/completions 405" in l for l in access) or not any(" 404 " in l for l in access):
        print("FAIL: the access log misses the 405 or the 404:\n" + "\n".join(access), file=sys.stderr)
        ok = False
    print(f"{len(access)} access-log lines", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
