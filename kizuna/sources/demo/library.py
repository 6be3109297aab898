"""The demo corpus: hand-written Japanese (and some English) posts about the sample brands.

Each line of corpus/posts.jsonl carries the labels a good operator would give it, so the same
file doubles as labelled data; corpus/followups.jsonl holds what customers say after we answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True)
class DemoPost:
    id: str
    brand: str | None
    intent: str
    response: str
    risk: str
    text: str
    next: str = ""


@dataclass(frozen=True)
class DemoFollowup:
    id: str
    after: str
    text: str


def _lines(name: str) -> list[dict[str, object]]:
    rows = []
    with (CORPUS_DIR / name).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{name} line {n}: {exc.msg}") from exc
    return rows


@cache
def demo_posts() -> tuple[DemoPost, ...]:
    """Return every demo post."""
    return tuple(
        DemoPost(
            id=str(r["id"]),
            brand=str(r["brand"]) if r.get("brand") else None,
            intent=str(r["intent"]),
            response=str(r["response"]),
            risk=str(r["risk"]),
            text=str(r["text"]),
            next=str(r.get("next") or ""),
        )
        for r in _lines("posts.jsonl")
    )


@cache
def demo_followups() -> tuple[DemoFollowup, ...]:
    """Return every customer answer to a reply."""
    return tuple(DemoFollowup(str(r["id"]), str(r["after"]), str(r["text"])) for r in _lines("followups.jsonl"))
