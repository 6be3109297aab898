"""`kizuna triage`: decide JSONL posts, score a labelled file, or retrain the model.

    kizuna triage [--config kizuna.toml] [--model PATH] [--fast-only]   < posts.jsonl > decisions.jsonl
    kizuna triage eval FILE [--brands brands.toml] [--json] [--fast-only]
    kizuna triage train [--out PATH] [--brands brands.toml] [--heldout FILE] [--test FILE ...] [FILES...]
    kizuna triage cv [--folds 5] [--brands brands.toml] [--json] [FILES...]

Posts are one JSON object a line: `id`, `text`, optional `brand` (a brand id of the config),
`author_followers`, `context` (earlier texts of the thread). Each gets one line, in input
order: `{"id", "intent", "response", "risk", "department", "confidence", "reasons"}`.
`--fast-only` skips the semantic tier (sentence embeddings): far faster, a little less right.
A malformed line is reported on stderr with its line number and skipped. Exit status: 0,
1 if some lines were skipped, 2 if the config, brands or model cannot be used. No Django.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from kizuna.core.config import ConfigError, load_config_file
from kizuna.core.normalize import normalize
from kizuna.core.routing import route_department
from kizuna.core.triage.evaluate import evaluate, report
from kizuna.core.triage.features import BrandContext, TriagePost, brand_sense, find_aliases
from kizuna.core.triage.lexicon import INTENTS, RESPONSES, RISKS
from kizuna.core.triage.model import CORPUS, DEFAULT_ARTIFACT, TEST_SETS, TRAIN_SETS, TriageModel, load_default
from kizuna.core.triage.training import cross_validate, load_brands, train

BATCH = 2048


class InputError(ValueError):
    """A line or file that cannot be used; the message says where and why."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run `kizuna triage` with the given arguments."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "eval":
        return _eval(args[1:])
    if args and args[0] == "train":
        return _train(args[1:])
    if args and args[0] == "cv":
        return _cv(args[1:])
    return _decide(args)


# --- deciding posts --------------------------------------------------------------------


def _decide(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="kizuna triage", description="Triage JSONL posts read on stdin.")
    parser.add_argument("--config", help="kizuna.toml: brands and [[routing]] (department is null without it)")
    parser.add_argument("--model", help="a model artifact (default: the shipped model)")
    parser.add_argument("--fast-only", action="store_true", help="skip the semantic tier (sentence embeddings)")
    args = parser.parse_args(argv)
    routes: list[dict[str, Any]] | None = None
    brands: dict[str, BrandContext] = {}
    if args.config:
        try:
            cfg = load_config_file(args.config)
        except (ConfigError, OSError) as error:
            sys.stderr.write(f"kizuna triage: {error}\n")
            return 2
        routes = [
            {"department": r.department, "intents": r.intents, "brands": r.brands, "keywords": r.keywords}
            for r in cfg.routing
        ]
        brands = {b.id: BrandContext(b.id, b.name, b.aliases, b.description) for b in cfg.brands}
    model = _load_model(args.model)
    if model is None:
        return 2
    skipped = 0
    batch: list[tuple[Any, TriagePost, str | None]] = []
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            batch.append(parse_post(line, brands if args.config else None))
        except InputError as error:
            sys.stderr.write(f"stdin:{number}: {error}\n")
            skipped += 1
            continue
        if len(batch) >= BATCH:
            _write_decisions(model, batch, routes, sys.stdout, fast_only=args.fast_only)
            batch = []
    _write_decisions(model, batch, routes, sys.stdout, fast_only=args.fast_only)
    return 1 if skipped else 0


def _load_model(path: str | None) -> TriageModel | None:
    try:
        return TriageModel.load(path) if path else load_default()
    except (OSError, ValueError, KeyError) as error:
        sys.stderr.write(f"kizuna triage: cannot load the model {path or DEFAULT_ARTIFACT}: {error}\n")
        return None


def parse_post(line: str, brands: Mapping[str, BrandContext] | None) -> tuple[Any, TriagePost, str | None]:
    """Parse one input line into (id, post, brand id); raise InputError saying what is wrong."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON ({error.msg} at column {error.colno})") from error
    if not isinstance(row, dict):
        raise InputError("expected a JSON object")
    if "id" not in row:
        raise InputError('missing "id"')
    text = row.get("text")
    if not isinstance(text, str):
        raise InputError('"text" must be a string')
    context = row.get("context") or []
    if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
        raise InputError('"context" must be a list of strings')
    followers = row.get("author_followers") or 0
    if not isinstance(followers, int) or isinstance(followers, bool) or followers < 0:
        raise InputError('"author_followers" must be a non-negative integer')
    brand_id = row.get("brand")
    if brand_id is not None and not isinstance(brand_id, str):
        raise InputError('"brand" must be a brand id (a string)')
    brand = None
    if brand_id is not None and brands is not None:
        if brand_id not in brands:
            raise InputError(f'brand "{brand_id}" is not defined in the config\'s [[brands]]')
        brand = brands[brand_id]
    lang = row.get("lang") if isinstance(row.get("lang"), str) else None
    return row["id"], TriagePost(text, tuple(context), brand, followers, lang), brand_id


def _write_decisions(
    model: TriageModel,
    batch: list[tuple[Any, TriagePost, str | None]],
    routes: list[dict[str, Any]] | None,
    out: TextIO,
    *,
    fast_only: bool = False,
) -> None:
    decisions = model.predict_many([post for _, post, _ in batch], fast_only=fast_only)
    for (post_id, post, brand_id), d in zip(batch, decisions, strict=True):
        department = (
            route_department(routes, intent=d.intent.value, brand=brand_id, text=post.text)
            if routes is not None
            else None
        )
        record = {
            "id": post_id,
            "intent": d.intent.value,
            "response": d.response.value,
            "risk": d.risk.value,
            "department": department,
            "confidence": d.intent.confidence,
            "reasons": list(d.reasons),
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()


# --- labelled files ----------------------------------------------------------------------


def read_labelled(paths: Iterable[str | Path]) -> tuple[list[dict[str, Any]], list[str]]:
    """Read JSONL rows with gold intent, response and risk; return (rows, problems)."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            problems.append(f"{path}: cannot read ({error.strerror or error})")
            continue
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{where}: not valid JSON ({error.msg})")
                continue
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                problems.append(f'{where}: expected an object with a string "text"')
                continue
            bad = [
                k for k, ok in (("intent", INTENTS), ("response", RESPONSES), ("risk", RISKS)) if row.get(k) not in ok
            ]
            if bad:
                problems.append(f"{where}: missing or unknown {', '.join(bad)}")
                continue
            rows.append(row)
    return rows, problems


def _brands_or_none(path: str) -> dict[str, BrandContext] | None:
    try:
        return load_brands(path)
    except (OSError, ValueError, KeyError) as error:
        sys.stderr.write(f"kizuna triage: cannot read brands from {path}: {error}\n")
        return None


def brand_in_text(text: str, brands: Mapping[str, BrandContext]) -> str | None:
    """Return the id of the first brand whose name or an alias occurs in text, as triage finds them."""
    folded = normalize(text)
    return next((brand_id for brand_id, brand in brands.items() if find_aliases(brand_sense(brand), folded)), None)


def _eval(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="kizuna triage eval", description="Score the model on labelled JSONL.")
    parser.add_argument("file", help="JSONL rows with text and gold intent, response, risk (brand ids optional)")
    parser.add_argument("--brands", default=str(CORPUS / "brands.toml"), help="TOML with [[brands]] for brand ids")
    parser.add_argument("--model", help="a model artifact (default: the shipped model)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a report")
    parser.add_argument("--fast-only", action="store_true", help="score the fast path alone (no embeddings)")
    parser.add_argument(
        "--brand-from-text",
        action="store_true",
        help="give a row without a brand the brand whose name or alias its text contains, as a desk's rule "
        "would have matched it (for sets that leave noise unbranded, like the demo corpus)",
    )
    args = parser.parse_args(argv)
    brands = _brands_or_none(args.brands)
    model = _load_model(args.model)
    if brands is None or model is None:
        return 2
    rows, problems = read_labelled([args.file])
    for problem in problems:
        sys.stderr.write(problem + "\n")
    if not rows:
        sys.stderr.write(f"kizuna triage eval: no usable rows in {args.file}\n")
        return 2
    if args.brand_from_text:
        rows = [r if r.get("brand") else {**r, "brand": brand_in_text(str(r["text"]), brands)} for r in rows]
    metrics = evaluate(model, rows, brands, fast_only=args.fast_only)
    sys.stdout.write(json.dumps(metrics) + "\n" if args.json else f"model: {model.version}\n" + report(metrics))
    return 1 if problems else 0


def _train(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="kizuna triage train", description="Retrain the model from labelled JSONL.")
    parser.add_argument(
        "files", nargs="*", help=f"labelled JSONL files (default: {', '.join(p.name for p in TRAIN_SETS)})"
    )
    parser.add_argument("--out", default=str(DEFAULT_ARTIFACT), help="where to write the model artifact")
    parser.add_argument("--brands", default=str(CORPUS / "brands.toml"), help="TOML with [[brands]] for brand ids")
    parser.add_argument(
        "--heldout", default=str(CORPUS / "heldout.jsonl"), help="labelled JSONL to score on (the development set)"
    )
    parser.add_argument(
        "--test",
        action="append",
        help="labelled JSONL to measure on, never to choose by; repeat for several, '' for none "
        f"(default: {', '.join(p.name for p in TEST_SETS)})",
    )
    args = parser.parse_args(argv)
    brands = _brands_or_none(args.brands)
    if brands is None:
        return 2
    rows, problems = read_labelled(args.files or TRAIN_SETS)
    tests = [path for path in (args.test or [str(p) for p in TEST_SETS]) if path]
    splits = {"heldout": read_labelled([args.heldout]) if args.heldout else ([], []), "test": read_labelled(tests)}
    problems += [p for _, found in splits.values() for p in found]
    for problem in problems:
        sys.stderr.write(problem + "\n")
    if not rows:
        sys.stderr.write("kizuna triage train: no usable training rows\n")
        return 2
    seen = {r["text"] for r in rows}
    for name, (split, _) in splits.items():
        overlap = sum(1 for r in split if r["text"] in seen)
        if overlap:
            sys.stderr.write(f"kizuna triage train: warning: {overlap} {name} texts are also training rows\n")
    heldout, test = (splits[name][0] or None for name in ("heldout", "test"))
    model = train(rows, brands=brands, heldout=heldout, test=test)
    model.save(args.out)
    sys.stdout.write(f"model: {model.version}\ntrained on {len(rows)} rows, written to {args.out}\n")
    for name, path in (("heldout", args.heldout), ("test", " + ".join(tests))):
        if name not in model.metrics:
            continue
        sys.stdout.write(f"\n{name} ({path}):\n" + report(model.metrics[name]))
        if f"{name}_fast_only" in model.metrics:
            fast = model.metrics[f"{name}_fast_only"]["headline"]
            sys.stdout.write(
                "fast path alone (fast_only=True): " + ", ".join(f"{k} {v:.3f}" for k, v in fast.items()) + "\n"
            )
    return 1 if problems else 0


def _cv(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kizuna triage cv",
        description="Cross-validate training on labelled JSONL: the figures settings are chosen by.",
    )
    parser.add_argument(
        "files", nargs="*", help=f"labelled JSONL files (default: {', '.join(p.name for p in TRAIN_SETS)})"
    )
    parser.add_argument("--folds", type=int, default=5, help="number of folds (stratified by intent)")
    parser.add_argument("--brands", default=str(CORPUS / "brands.toml"), help="TOML with [[brands]] for brand ids")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a report")
    args = parser.parse_args(argv)
    brands = _brands_or_none(args.brands)
    if brands is None:
        return 2
    rows, problems = read_labelled(args.files or TRAIN_SETS)
    for problem in problems:
        sys.stderr.write(problem + "\n")
    if len(rows) < 2 * args.folds or args.folds < 2:
        sys.stderr.write(f"kizuna triage cv: {len(rows)} usable rows are too few for {args.folds} folds\n")
        return 2
    metrics = cross_validate(rows, brands=brands, folds=args.folds)
    head = f"{args.folds}-fold cross-validation, out-of-fold decisions\n"
    sys.stdout.write(json.dumps(metrics) + "\n" if args.json else head + report(metrics))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
