#!/usr/bin/env python3
"""Validate the demo corpus (posts.jsonl, followups.jsonl). Standard library only.

Usage: python kizuna/sources/demo/corpus/check_corpus.py
Exits non-zero and lists every problem when a file is invalid.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

BRANDS = {"sakutto", "hidamari", None}
INTENTS = {
    "praise",
    "question",
    "defect",
    "staff",
    "urgent",
    "delivery",
    "request",
    "complaint",
    "mention",
    "noise",
}
RESPONSES = {"thanks", "apology", "guidance", "none"}
RISKS = {"low", "medium", "high"}

POST_REQUIRED = ("id", "brand", "intent", "response", "risk", "text")
POST_OPTIONAL = ("next",)
FOLLOWUP_REQUIRED = ("id", "after", "text")

MIN_POSTS = 520
MIN_FOLLOWUPS = 120
JA_LIMIT = 140
EN_LIMIT = 280


def is_english(text: str) -> bool:
    """True when the text is mostly ASCII letters (an English post)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    ascii_letters = sum(1 for c in letters if c.isascii())
    return ascii_letters / len(letters) >= 0.8


def text_key(text: str) -> str:
    """Key used for the duplicate check: whitespace removed."""
    return "".join(text.split())


def check_text(text, where: str, errors: list[str]) -> None:
    if not isinstance(text, str) or not text.strip():
        errors.append(f"{where}: text must be a non-empty string")
        return
    limit = EN_LIMIT if is_english(text) else JA_LIMIT
    if len(text) > limit:
        errors.append(f"{where}: text is {len(text)} chars (limit {limit})")
    if text != text.strip():
        errors.append(f"{where}: leading/trailing whitespace")
    if any(unicodedata.category(c) == "Cc" for c in text):
        errors.append(f"{where}: control character in text")


def load_jsonl(path: Path, errors: list[str]) -> list[dict]:
    rows = []
    if not path.exists():
        errors.append(f"{path.name}: missing")
        return rows
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"{path.name}:{n}: blank line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{path.name}:{n}: invalid JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"{path.name}:{n}: not a JSON object")
            continue
        obj["_line"] = n
        rows.append(obj)
    return rows


def check_posts(path: Path, errors: list[str]) -> list[dict]:
    rows = load_jsonl(path, errors)
    ids: Counter = Counter()
    texts: dict[str, str] = {}
    for r in rows:
        where = f"{path.name}:{r['_line']}"
        missing = [k for k in POST_REQUIRED if k not in r]
        if missing:
            errors.append(f"{where}: missing keys {missing}")
            continue
        extra = set(r) - set(POST_REQUIRED) - set(POST_OPTIONAL) - {"_line"}
        if extra:
            errors.append(f"{where}: unknown keys {sorted(extra)}")
        ids[r["id"]] += 1
        if not (isinstance(r["id"], str) and len(r["id"]) == 5 and r["id"][0] == "p" and r["id"][1:].isdigit()):
            errors.append(f"{where}: bad id {r['id']!r} (want p0001)")
        if r["brand"] not in BRANDS:
            errors.append(f"{where}: bad brand {r['brand']!r}")
        if r["intent"] not in INTENTS:
            errors.append(f"{where}: bad intent {r['intent']!r}")
        if r["response"] not in RESPONSES:
            errors.append(f"{where}: bad response {r['response']!r}")
        if r["risk"] not in RISKS:
            errors.append(f"{where}: bad risk {r['risk']!r}")
        if r["intent"] == "noise" and r["brand"] is not None:
            errors.append(f"{where}: noise must have brand null")
        if r["intent"] != "noise" and r["brand"] is None:
            errors.append(f"{where}: non-noise post needs a brand")
        check_text(r["text"], where, errors)
        if "next" in r:
            check_text(r["next"], where + " (next)", errors)
        for t in (r.get("text"), r.get("next")):
            if isinstance(t, str):
                key = text_key(t)
                if key in texts:
                    errors.append(f"{where}: duplicate text (also {texts[key]}): {t[:30]}")
                else:
                    texts[key] = where
    for i, c in ids.items():
        if c > 1:
            errors.append(f"{path.name}: id {i} used {c} times")
    if len(rows) < MIN_POSTS:
        errors.append(f"{path.name}: {len(rows)} posts, need at least {MIN_POSTS}")
    return rows


def check_followups(path: Path, errors: list[str], post_texts: set[str]) -> list[dict]:
    rows = load_jsonl(path, errors)
    ids: Counter = Counter()
    texts: dict[str, str] = {}
    for r in rows:
        where = f"{path.name}:{r['_line']}"
        missing = [k for k in FOLLOWUP_REQUIRED if k not in r]
        if missing:
            errors.append(f"{where}: missing keys {missing}")
            continue
        extra = set(r) - set(FOLLOWUP_REQUIRED) - {"_line"}
        if extra:
            errors.append(f"{where}: unknown keys {sorted(extra)}")
        ids[r["id"]] += 1
        if not (isinstance(r["id"], str) and len(r["id"]) == 4 and r["id"][0] == "f" and r["id"][1:].isdigit()):
            errors.append(f"{where}: bad id {r['id']!r} (want f001)")
        if r["after"] not in INTENTS - {"noise"}:
            errors.append(f"{where}: bad 'after' {r['after']!r}")
        check_text(r["text"], where, errors)
        if isinstance(r["text"], str):
            key = text_key(r["text"])
            if key in texts:
                errors.append(f"{where}: duplicate text (also {texts[key]})")
            elif key in post_texts:
                errors.append(f"{where}: same text as a post")
            texts[key] = where
    for i, c in ids.items():
        if c > 1:
            errors.append(f"{path.name}: id {i} used {c} times")
    missing_after = (INTENTS - {"noise"}) - {r.get("after") for r in rows}
    if missing_after:
        errors.append(f"{path.name}: no follow-ups after {sorted(missing_after)}")
    if len(rows) < MIN_FOLLOWUPS:
        errors.append(f"{path.name}: {len(rows)} follow-ups, need at least {MIN_FOLLOWUPS}")
    return rows


def show(title: str, counter: Counter) -> None:
    items = ", ".join(f"{k}={v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0]))))
    print(f"  {title:<10} {items}")


def main() -> int:
    errors: list[str] = []
    posts = check_posts(HERE / "posts.jsonl", errors)
    post_texts = {text_key(t) for p in posts for t in (p.get("text"), p.get("next")) if isinstance(t, str)}
    followups = check_followups(HERE / "followups.jsonl", errors, post_texts)

    print(f"posts.jsonl: {len(posts)} posts")
    show("intent", Counter(p.get("intent") for p in posts))
    show("brand", Counter(p.get("brand") or "null" for p in posts))
    show("response", Counter(p.get("response") for p in posts))
    show("risk", Counter(p.get("risk") for p in posts))
    print(f"  {'with next':<10} {sum(1 for p in posts if 'next' in p)}")
    print(f"  {'english':<10} {sum(1 for p in posts if isinstance(p.get('text'), str) and is_english(p['text']))}")
    by = Counter((p.get("intent"), p.get("brand") or "null") for p in posts)
    for intent in sorted(INTENTS):
        print(
            f"    {intent:<10} sakutto={by[(intent, 'sakutto')]:<3} hidamari={by[(intent, 'hidamari')]:<3} null={by[(intent, 'null')]}"
        )
    print(f"followups.jsonl: {len(followups)} follow-ups")
    show("after", Counter(f.get("after") for f in followups))

    if errors:
        print(f"\n{len(errors)} problem(s):", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
