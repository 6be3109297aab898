"""``kizuna lint``: check a reply draft read from stdin against the reply policy, print JSON.

    kizuna lint --platform x|bluesky|mastodon [--policy kizuna.toml] [--operator NAME] [--history FILE]

Exit status: 0 when nothing blocks, 1 when a violation blocks, 2 for unusable input (a bad policy
file, a bad history line, bad arguments). No Django: it runs without a database or settings.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from kizuna.core.length import PLATFORMS
from kizuna.core.policy import Policy, PolicyError, lint


class InputError(Exception):
    """Input the command cannot use; the message says which file, which line and why."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kizuna lint",
        description="Check a reply draft (read from stdin) against the reply policy and print JSON.",
    )
    parser.add_argument("--platform", required=True, choices=PLATFORMS, help="network the reply goes to")
    parser.add_argument("--policy", type=Path, help="kizuna.toml whose [policy] table to use (default: built-in)")
    parser.add_argument("--operator", help="display name the reply must be signed with")
    parser.add_argument("--history", type=Path, help='JSONL of earlier sent replies, one {"text": ...} per line')
    return parser


def load_policy(path: Path) -> Policy:
    """Read the ``[policy]`` table of a kizuna.toml; raise InputError naming the file."""
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except OSError as exc:
        raise InputError(f"{path}: cannot read policy file: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return Policy.from_dict(doc.get("policy", {}))
    except PolicyError as exc:
        raise InputError(f"{path}: {exc}") from exc


def load_history(path: Path) -> list[str]:
    """Read earlier replies from JSONL (one ``{"text": ...}`` per line); raise InputError naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read history file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: history file is not UTF-8: {exc}") from exc
    texts: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not valid JSON: {exc.msg}") from exc
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InputError(f'{path}:{number}: expected an object with a "text" string, got {line.strip()[:60]}')
        texts.append(item["text"])
    return texts


def main(argv: list[str]) -> int:
    """Run ``kizuna lint`` with argv (without the program name); return the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the reason
        return exc.code if isinstance(exc.code, int) else 2
    try:
        policy = load_policy(args.policy) if args.policy else Policy()
        history = load_history(args.history) if args.history else []
    except InputError as exc:
        print(f"kizuna lint: {exc}", file=sys.stderr)
        return 2
    # A draft piped from a file or `echo` ends with a newline that is not part of the reply.
    draft = sys.stdin.read().rstrip("\r\n")
    result = lint(draft, platform=args.platform, policy=policy, operator=args.operator, history=history)
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    return 1 if result.blocked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
