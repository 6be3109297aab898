"""Validate the triage corpus (brands.toml, train.jsonl, heldout.jsonl, fresh.jsonl … fresh17.jsonl).

Standard library only. The fresh sets are each by other writers about brands of their own (8, fresh8 16): no
brand of a fresh set may have a post in any other split (see GUIDE.md). fresh16.jsonl is the test
set; the earlier fresh sets were test sets and are training rows now that they have been read, and
fresh17.jsonl was written to be trained on.

Usage: python3 kizuna/triage/corpus/check_corpus.py
Prints counts per split and exits non-zero, listing every problem, when the corpus is invalid.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
import unicodedata
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

INTENTS = (
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
)
RESPONSES = ("thanks", "apology", "guidance", "none")
RISKS = ("low", "medium", "high")
LANGS = ("ja", "en")
INDUSTRIES = (
    "food",
    "telecom",
    "retail",
    "transport",
    "finance",
    "education",
    "appliances",
    "software",
)
# The response each of these intents always gets (the others depend on the post).
FIXED_RESPONSE = {
    "praise": "thanks",
    "question": "guidance",
    "defect": "apology",
    "staff": "apology",
    "noise": "none",
}

SPLITS = (
    ("train.jsonl", "t"),
    ("heldout.jsonl", "h"),
    ("fresh.jsonl", "f"),
    ("fresh2.jsonl", "g"),
    ("fresh3.jsonl", "k"),
    ("fresh4.jsonl", "m"),
    ("fresh5.jsonl", "n"),
    ("fresh6.jsonl", "p"),
    ("fresh7.jsonl", "q"),
    ("fresh8.jsonl", "r"),
    ("fresh9.jsonl", "s"),
    ("fresh10.jsonl", "u"),
    ("fresh11.jsonl", "v"),
    ("fresh12.jsonl", "w"),
    ("fresh13.jsonl", "x"),
    ("fresh14.jsonl", "y"),
    ("fresh15.jsonl", "z"),
    ("fresh16.jsonl", "a"),
    ("fresh17.jsonl", "b"),
)
# Each about brands of its own (every split named fresh…, as SPLITS lists them).
FRESH_SPLITS = tuple(name.removesuffix(".jsonl") for name, _ in SPLITS if name.startswith("fresh"))
KEYS = ("id", "brand", "text", "intent", "response", "risk", "lang", "author_followers", "context")
BRAND_KEYS = ("id", "name", "aliases", "description", "industry")

MIN_POSTS = 1600
MIN_HELDOUT_PER_INTENT = 15
# Held-out is the development set now that a fresh set is the test set: training may outgrow it.
HELDOUT_SHARE = (0.10, 0.30)
JA_LENGTH = (8, 140)
EN_LIMIT = 280

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uff66-\uff9f]")
SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


def text_key(text: str) -> str:
    """Key for the duplicate check: NFKC-normalized and stripped."""
    return unicodedata.normalize("NFKC", text).strip()


def check_text(text: object, lang: object, where: str, errors: list[str]) -> None:
    if not isinstance(text, str) or not text.strip():
        errors.append(f"{where}: text must be a non-empty string")
        return
    if text != text.strip():
        errors.append(f"{where}: leading/trailing whitespace")
    if any(unicodedata.category(c) == "Cc" for c in text):
        errors.append(f"{where}: control character in text")
    has_japanese = bool(JAPANESE.search(text))
    if lang == "ja":
        if not has_japanese:
            errors.append(f"{where}: lang is ja but the text has no Japanese")
        low, high = JA_LENGTH
        if not low <= len(text) <= high:
            errors.append(f"{where}: Japanese text is {len(text)} chars (want {low}-{high})")
    elif lang == "en" and len(text) > EN_LIMIT:
        errors.append(f"{where}: English text is {len(text)} chars (limit {EN_LIMIT})")


def load_brands(path: Path, errors: list[str]) -> dict[str, str]:
    """Return brand id -> industry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        errors.append(f"{path.name}: cannot read ({exc})")
        return {}
    brands: dict[str, str] = {}
    for n, b in enumerate(data.get("brands", []), 1):
        where = f"{path.name}: brand #{n}"
        missing = [k for k in BRAND_KEYS if k not in b]
        if missing:
            errors.append(f"{where}: missing keys {missing}")
            continue
        if not SLUG.match(str(b["id"])):
            errors.append(f"{where}: id {b['id']!r} is not a lower-case slug")
        if b["id"] in brands:
            errors.append(f"{where}: duplicate id {b['id']!r}")
        if b["industry"] not in INDUSTRIES:
            errors.append(f"{where}: unknown industry {b['industry']!r}")
        if not isinstance(b["aliases"], list) or not all(isinstance(a, str) for a in b["aliases"]):
            errors.append(f"{where}: aliases must be a list of strings")
        if not str(b["description"]).strip():
            errors.append(f"{where}: empty description")
        brands[b["id"]] = b["industry"]
    if not brands:
        errors.append(f"{path.name}: no [[brands]]")
    return brands


def load_split(path: Path, prefix: str, brands: dict[str, str], errors: list[str]) -> list[dict]:
    rows: list[dict] = []
    if not path.exists():
        errors.append(f"{path.name}: missing")
        return rows
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{n}"
        if not line.strip():
            errors.append(f"{where}: blank line")
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON ({exc})")
            continue
        if not isinstance(r, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        missing = [k for k in KEYS if k not in r]
        extra = sorted(set(r) - set(KEYS))
        if missing:
            errors.append(f"{where}: missing keys {missing}")
            continue
        if extra:
            errors.append(f"{where}: unknown keys {extra}")
        rid = r["id"]
        if not (isinstance(rid, str) and re.fullmatch(prefix + r"\d{4}", rid)):
            errors.append(f"{where}: bad id {rid!r} (want {prefix}0001)")
        if r["brand"] not in brands:
            errors.append(f"{where}: brand {r['brand']!r} not in brands.toml")
        for key, allowed in (("intent", INTENTS), ("response", RESPONSES), ("risk", RISKS), ("lang", LANGS)):
            if r[key] not in allowed:
                errors.append(f"{where}: bad {key} {r[key]!r}")
        fixed = FIXED_RESPONSE.get(r["intent"])
        if fixed and r["response"] != fixed:
            errors.append(f"{where}: {r['intent']} must have response {fixed}, not {r['response']!r}")
        followers = r["author_followers"]
        if not isinstance(followers, int) or isinstance(followers, bool) or followers < 0:
            errors.append(f"{where}: author_followers must be a non-negative integer")
        check_text(r["text"], r["lang"], where, errors)
        context = r["context"]
        if not isinstance(context, list):
            errors.append(f"{where}: context must be a list")
        else:
            for i, c in enumerate(context):
                check_text(
                    c, "ja" if isinstance(c, str) and JAPANESE.search(c) else "en", f"{where} context[{i}]", errors
                )
        r["_where"] = where
        rows.append(r)
    return rows


def check_uniqueness(rows: list[dict], errors: list[str]) -> None:
    ids: dict[str, str] = {}
    texts: dict[str, str] = {}
    for r in rows:
        if r["id"] in ids:
            errors.append(f"{r['_where']}: id {r['id']} also at {ids[r['id']]}")
        ids[r["id"]] = r["_where"]
        strings = [r["text"]] + [c for c in r.get("context") or [] if isinstance(c, str)]
        for s in strings:
            if not isinstance(s, str):
                continue
            key = text_key(s)
            if key in texts and texts[key] != r["_where"]:
                errors.append(f"{r['_where']}: duplicate text (also {texts[key]}): {s[:30]}")
            texts[key] = r["_where"]


def show_table(title: str, values: tuple[str, ...], counts: dict[str, Counter], sizes: dict[str, int]) -> None:
    names = list(counts)
    print(f"\n{title:<12}" + "".join(f"{n:>16}" for n in names))
    for v in values:
        cells = "".join(f"{counts[n][v]:>8} {100 * counts[n][v] / max(sizes[n], 1):5.1f}% " for n in names)
        print(f"  {v:<10}{cells}")


def main() -> int:
    errors: list[str] = []
    brands = load_brands(HERE / "brands.toml", errors)
    splits = {name.removesuffix(".jsonl"): load_split(HERE / name, prefix, brands, errors) for name, prefix in SPLITS}
    everything = [r for rows in splits.values() for r in rows]
    check_uniqueness(everything, errors)

    total = len(everything)
    if total < MIN_POSTS:
        errors.append(f"corpus: {total} posts, need at least {MIN_POSTS}")
    held = splits["heldout"]
    for name in ("heldout", *FRESH_SPLITS):
        counts = Counter(r["intent"] for r in splits[name])
        for intent in INTENTS:
            if counts[intent] < MIN_HELDOUT_PER_INTENT:
                errors.append(f"{name}.jsonl: {counts[intent]} {intent} posts, need at least {MIN_HELDOUT_PER_INTENT}")
    for name in FRESH_SPLITS:
        elsewhere = {r["brand"] for other, rows in splits.items() if other != name for r in rows}
        for brand in sorted({r["brand"] for r in splits[name]} & elsewhere):
            errors.append(
                f"{name}.jsonl: brand {brand!r} also has posts in another split (a fresh set's brands are its own)"
            )
    for name, rows in splits.items():
        missing = set(INTENTS) - {r["intent"] for r in rows}
        if missing:
            errors.append(f"{name}.jsonl: no posts with intent {sorted(missing)}")
    if total:
        share = len(held) / (len(held) + len(splits["train"]))
        if not HELDOUT_SHARE[0] <= share <= HELDOUT_SHARE[1]:
            errors.append(f"heldout share {share:.1%} outside {HELDOUT_SHARE}")
    unused = set(brands) - {r["brand"] for r in everything}
    if unused:
        errors.append(f"brands without posts: {sorted(unused)}")

    sizes = {name: len(rows) for name, rows in splits.items()} | {"total": total}
    groups = dict(splits) | {"total": everything}
    print(f"brands: {len(brands)}  posts: " + ", ".join(f"{n}={s}" for n, s in sizes.items()))
    print(
        f"with context: {sum(1 for r in everything if r.get('context'))}  "
        f"followers>=20000: {sum(1 for r in everything if isinstance(r.get('author_followers'), int) and r['author_followers'] >= 20000)}"
    )
    for key, values in (
        ("intent", INTENTS),
        ("response", RESPONSES),
        ("risk", RISKS),
        ("lang", LANGS),
        ("industry", INDUSTRIES),
    ):
        if key == "industry":
            counts = {n: Counter(brands.get(r["brand"]) for r in rows) for n, rows in groups.items()}
        else:
            counts = {n: Counter(r.get(key) for r in rows) for n, rows in groups.items()}
        show_table(key, values, counts, sizes)

    if errors:
        print(f"\n{len(errors)} problem(s):", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
