"""`kizuna match --rules FILE`: match JSONL posts on stdin against keyword rules.

Reads one JSON object a line (`id`, `text`, optional `lang`, `author`, `is_repost`,
`is_reply`) and writes one line a post, in input order: `{"id": ..., "rules": [...]}`.
A malformed line is reported on stderr with its line number and skipped; blank lines are
skipped silently. Exit status: 0, 1 if some lines were skipped, 2 if the rules cannot be
used. Imports no Django, so that it starts fast.

Input is parsed a block at a time (up to 64 KiB of whole lines) with the C JSON scanner and
checked with C-level maps; lines of an unusual block take a slower line-by-line path.
Posts are matched, and their output written, in batches of about 8,000.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from itertools import repeat
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from typing import Any, BinaryIO, TextIO

from kizuna.core.config import ConfigError, load_config_file
from kizuna.core.matcher import Matcher, PostAttributes, compile_rules
from kizuna.core.rules import RuleSpec, RuleSyntaxError

BLOCK_SIZE = 1 << 16
BATCH_POSTS = 8192
_NONE = type(None)
_OPTIONAL_TYPES: tuple[tuple[str, frozenset[type]], ...] = (
    ("lang", frozenset((str, _NONE))),
    ("author", frozenset((str, _NONE))),
    ("is_repost", frozenset((bool, _NONE))),
    ("is_reply", frozenset((bool, _NONE))),
)
# The C scanner behind json.loads, without its per-call wrapping (a third of its time).
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_NO_RULES_SEP = ', "rules": []}\n{"id": '
_ID_AND_TEXT = itemgetter("id", "text")


class RulesFileError(ValueError):
    """The rules file is missing, not TOML, or its [[rules]] tables are not usable."""


def load_rules(path: str | os.PathLike[str]) -> list[RuleSpec]:
    """Read the [[rules]] tables (id, query, optional brand) of a workspace TOML file."""
    try:
        cfg = load_config_file(path, rules_only=True)
    except ConfigError as error:
        raise RulesFileError(str(error)) from error
    return [RuleSpec(rule.id, rule.query, rule.brand) for rule in cfg.rules if rule.enabled]


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


def _post_problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return f"expected a JSON object, found {_json_kind(obj)}"
    if "id" not in obj:
        return "expected an 'id'"
    if type(obj["id"]) not in (str, int):
        return "expected 'id' to be a string or an integer"
    if type(obj.get("text")) is not str:
        return "expected a string 'text'"
    for key, allowed in _OPTIONAL_TYPES:
        if type(obj.get(key)) not in allowed:
            kind = "a boolean" if bool in allowed else "a string"
            return f"expected '{key}' to be {kind} or null"
    return None


class _Batch:
    """Valid posts awaiting matching, as columns (no dicts kept: they are freed while the
    block they came from is still in the CPU cache)."""

    def __init__(self) -> None:
        self.ids: list[Any] = []
        self.texts: list[str] = []
        self.langs: list[str | None] = []
        self.authors: list[str | None] = []
        self.reposts: list[bool | None] = []
        self.replies: list[bool | None] = []

    def add_fast(self, lines: list[str]) -> bool:
        """Add the posts of lines with C-level maps; return False (adding nothing) on any surprise."""
        try:
            parsed = list(map(_scan, lines, repeat(0)))
        except (StopIteration, ValueError, RecursionError):
            return False
        # Each value ends where its line does (nothing after it) iff the ends add up.
        if sum(map(itemgetter(1), parsed)) != sum(map(len, lines)):
            return False
        objects = list(map(itemgetter(0), parsed))
        try:
            pairs = list(map(_ID_AND_TEXT, objects))
        except (KeyError, TypeError):  # TypeError: not an object
            return False
        ids, texts = list(map(itemgetter(0), pairs)), list(map(itemgetter(1), pairs))
        if set(map(type, texts)) != {str} or not set(map(type, ids)) <= {str, int}:
            return False
        columns: list[list[Any]] = []
        for key, allowed in _OPTIONAL_TYPES:
            column = list(map(dict.get, objects, repeat(key)))
            if not set(map(type, column)) <= allowed:
                return False
            columns.append(column)
        langs, authors, reposts, replies = columns
        self.ids += ids
        self.texts += texts
        self.langs += langs
        self.authors += authors
        self.reposts += reposts
        self.replies += replies
        return True

    def add_slow(self, lines: list[str], first_line: int, problems: list[tuple[int, str]]) -> None:
        """Add the posts of lines one by one, noting the problem of each line that is not one."""
        for number, line in enumerate(lines, start=first_line):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as error:
                problems.append((number, f"not valid JSON: {error}"))
                continue
            problem = _post_problem(obj)
            if problem is not None:
                problems.append((number, problem))
                continue
            self.ids.append(obj["id"])
            self.texts.append(obj["text"])
            self.langs.append(obj.get("lang"))
            self.authors.append(obj.get("author"))
            self.reposts.append(obj.get("is_repost"))
            self.replies.append(obj.get("is_reply"))

    def attributes(self, index: int) -> PostAttributes:
        """Return lang, author, is_repost, is_reply of post index."""
        return self.langs[index], self.authors[index], self.reposts[index] is True, self.replies[index] is True


def _decode_lines(block: bytes, first_line: int, problems: list[tuple[int, str]]) -> list[str]:
    try:
        return block.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    for number, raw in enumerate(block.split(b"\n"), start=first_line):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            problems.append((number, f"not valid UTF-8 (byte {error.start + 1})"))
            lines.append("")  # keeps line numbers; blank lines are skipped
    return lines


def _output(ids: list[Any], found: dict[int, list[str]], rule_json: dict[str, str]) -> str:
    if set(map(type, ids)) == {str}:
        encoded = list(map(encode_basestring_ascii, ids))
    else:
        encoded = [encode_basestring_ascii(i) if type(i) is str else str(i) for i in ids]
    pieces: list[str] = []
    done = 0
    for index in sorted(found):
        if index > done:
            pieces.append('{"id": ' + _NO_RULES_SEP.join(encoded[done:index]) + ', "rules": []}\n')
        rules = ", ".join(rule_json[r] for r in found[index])
        pieces.append('{"id": ' + encoded[index] + ', "rules": [' + rules + "]}\n")
        done = index + 1
    if done < len(encoded):
        pieces.append('{"id": ' + _NO_RULES_SEP.join(encoded[done:]) + ', "rules": []}\n')
    return "".join(pieces)


def _blocks(stdin: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    # -> (whole lines, whether more input was there at once). read1 returns what is there:
    # a file gives a whole block, a pipe what has arrived, so a slow stream is answered
    # as it comes.
    pending = b""
    while chunk := stdin.read1(BLOCK_SIZE):  # type: ignore[attr-defined]  # BufferedReader
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            pending += chunk
            continue
        yield pending + chunk[:cut], len(chunk) == BLOCK_SIZE
        pending = chunk[cut:]
    if pending:
        yield pending + b"\n", False


def run(matcher: Matcher, stdin: BinaryIO, stdout: BinaryIO, stderr: TextIO) -> int:
    """Match every JSONL post of stdin and write the results; return how many lines were skipped."""
    rule_json = {rule_id: json.dumps(rule_id, ensure_ascii=False) for rule_id in matcher.rule_ids}
    next_line = 1
    skipped = 0
    batch = _Batch()
    for data, more in _blocks(stdin):
        problems: list[tuple[int, str]] = []
        lines = _decode_lines(data, next_line, problems)
        lines.pop()  # the block ends with a newline
        if problems or not batch.add_fast(lines):
            batch.add_slow(lines, next_line, problems)
            problems.sort()
        for number, problem in problems:
            stderr.write(f"kizuna match: line {number}: {problem}; skipped\n")
        skipped += len(problems)
        next_line += len(lines)
        # Parse in small blocks (their dicts stay in the CPU cache), match in large batches.
        if len(batch.texts) >= BATCH_POSTS or (not more and batch.texts):
            found = matcher.match_texts(batch.texts, batch.attributes)
            stdout.write(_output(batch.ids, found, rule_json).encode("utf-8"))
            stdout.flush()
            batch = _Batch()
    return skipped


def main(argv: list[str]) -> int:
    """Run `kizuna match`; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="kizuna match",
        description="Match JSONL posts on stdin against the [[rules]] of a workspace TOML file.",
    )
    # (A plain str, not a Path: pathlib would add 10 ms of imports to every start.)
    parser.add_argument("--rules", required=True, metavar="FILE", help="workspace TOML with [[rules]]")
    args = parser.parse_args(argv)
    try:
        specs = load_rules(args.rules)
    except RulesFileError as error:
        sys.stderr.write(f"kizuna match: {error}\n")
        return 2
    try:
        matcher = compile_rules(specs)
    except (RuleSyntaxError, ValueError) as error:  # ValueError: a duplicate rule id
        sys.stderr.write(f"kizuna match: {args.rules}: {error}\n")
        return 2
    try:
        skipped = run(matcher, sys.stdin.buffer, sys.stdout.buffer, sys.stderr)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
