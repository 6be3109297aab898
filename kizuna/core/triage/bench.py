"""Benchmark the triage model: posts/s for predict_many, and ms per post for predict().

    python -m kizuna.core.triage.bench [--posts 20000] [--singles 2000] [--model PATH]

Posts are the corpus texts (train and held-out, with their brands, followers and thread
context) repeated to the requested count, so lengths and scripts are realistic. Threads of
numeric libraries are capped at one before numpy loads, so the figures are per core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="kizuna bench triage", description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000, help="posts for the batched fast path")
    parser.add_argument("--singles", type=int, default=2_000, help="posts decided one at a time")
    parser.add_argument("--batch", type=int, default=2_048, help="batch size of predict_many")
    parser.add_argument("--model", help="a model artifact (default: the shipped model)")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))

    import json

    from kizuna.core.triage.model import CORPUS, TriageModel, load_brands, load_default, posts_from_rows

    started = time.perf_counter()
    model = TriageModel.load(args.model) if args.model else load_default()
    loaded = time.perf_counter() - started
    brands = load_brands(CORPUS / "brands.toml")
    rows = [
        json.loads(line)
        for name in ("train.jsonl", "heldout.jsonl")
        for line in (CORPUS / name).read_text(encoding="utf-8").splitlines()
    ]
    corpus = posts_from_rows(rows, brands)
    posts = [corpus[i % len(corpus)] for i in range(args.posts)]
    model.predict_many(posts[:200])  # warm caches (brand sense, lexicon automaton)

    started = time.perf_counter()
    for i in range(0, len(posts), args.batch):
        model.predict_many(posts[i : i + args.batch])
    batched = time.perf_counter() - started

    timings = []
    for post in posts[: args.singles]:
        t = time.perf_counter()
        model.predict(post)
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()

    def pct(p: float) -> float:
        return timings[min(len(timings) - 1, int(p * len(timings)))]

    print(f"model {model.version} (loaded in {loaded * 1000:.0f} ms)")
    print(f"predict_many: {len(posts):,} posts in {batched:.2f} s = {len(posts) / batched:,.0f} posts/s (one core)")
    print(f"predict():    p50 {pct(0.50):.2f} ms, p99 {pct(0.99):.2f} ms, max {timings[-1]:.2f} ms per post")
    return 0


if __name__ == "__main__":
    sys.exit(main())
