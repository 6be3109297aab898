"""Benchmark the triage model: posts/s for predict_many, and ms per post for predict().

    python -m kizuna.core.triage.bench [--posts 20000] [--singles 2000] [--model PATH]
                                       [--semantic-posts 1000] [--semantic-singles 300] [--skip-fast]

The fast path (predict_many(..., fast_only=True)) and, when the model has one and the embedder
is installed, every tier (the default of predict and predict_many: the post is also embedded)
are timed separately; the semantic tier is far slower, so it is timed on fewer posts.

Posts are the corpus texts (train and held-out, with their brands, followers and thread
context) repeated to the requested count, so lengths and scripts are realistic. Threads of
numeric libraries are capped at one before numpy loads, so the figures are per core; set
OMP_NUM_THREADS to time the embedding on more cores (`make bench` also times every tier with
all of the machine's cores, what a desk deciding one post at a time gets).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="kizuna bench triage", description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000, help="posts for the batched fast path")
    parser.add_argument("--singles", type=int, default=2_000, help="posts decided one at a time")
    parser.add_argument("--batch", type=int, default=2_048, help="batch size of predict_many")
    parser.add_argument("--model", help="a model artifact (default: the shipped model)")
    parser.add_argument("--semantic-posts", type=int, default=1_000, help="posts for predict_many with every tier")
    parser.add_argument("--semantic-singles", type=int, default=300, help="posts decided one at a time, every tier")
    parser.add_argument("--batch-semantic", type=int, default=64, help="batch size of predict_many, every tier")
    parser.add_argument("--skip-fast", action="store_true", help="time every tier only")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))

    import json

    from kizuna.core.triage.model import CORPUS, TriageModel, load_default
    from kizuna.core.triage.training import load_brands, posts_from_rows

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
    total = max(args.posts + args.singles, args.semantic_posts + args.semantic_singles)
    posts = [corpus[i % len(corpus)] for i in range(total)]
    model.predict_many(posts[:200], fast_only=True)  # warm caches (brand sense, lexicon automaton)
    print(f"model {model.version} (loaded in {loaded * 1000:.0f} ms)")
    threads = os.environ.get("OMP_NUM_THREADS")
    if not args.skip_fast:
        _time(
            model,
            posts[: args.posts + args.singles],
            args.batch,
            args.singles,
            fast_only=True,
            label=f"fast path, {threads} thread(s)",
        )
    if model.semantic:
        model.predict_many(posts[:8])  # load the embedder
        # Distinct texts, so that the embeddings remembered by text do not flatter the figures.
        fresh = [
            replace(p, text=f"{p.text} #{n}")
            for n, p in enumerate(posts[: args.semantic_posts + args.semantic_singles])
        ]
        _time(
            model,
            fresh,
            args.batch_semantic,
            args.semantic_singles,
            fast_only=False,
            label=f"every tier, {threads} thread(s)",
        )
    return 0


def _time(model: Any, posts: Sequence[Any], batch: int, singles: int, *, fast_only: bool, label: str) -> None:
    """Time predict_many over posts[:-singles] in batches, then predict() on each of the last singles."""
    posts, single_posts = posts[: len(posts) - singles], posts[len(posts) - singles :]
    started = time.perf_counter()
    for i in range(0, len(posts), batch):
        model.predict_many(posts[i : i + batch], fast_only=fast_only)
    batched = time.perf_counter() - started
    timings = []
    for post in single_posts:
        t = time.perf_counter()
        model.predict(post, fast_only=fast_only)
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()

    def pct(p: float) -> float:
        return timings[min(len(timings) - 1, int(p * len(timings)))]

    print(f"{label}:")
    print(f"  predict_many: {len(posts):,} posts in {batched:.2f} s = {len(posts) / batched:,.0f} posts/s")
    print(f"  predict():    p50 {pct(0.50):.2f} ms, p99 {pct(0.99):.2f} ms, max {timings[-1]:.2f} ms per post")


if __name__ == "__main__":
    sys.exit(main())
