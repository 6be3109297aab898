"""`kizuna match --rules FILE`: match JSONL posts on stdin against keyword rules.

Reads one JSON object a line (`id`, `text`, optional `lang`, `author`, `is_repost`,
`is_reply`) and writes one line a post, in input order: `{"id": ..., "rules": [...]}`.
A malformed line is reported on stderr with its line number and skipped; blank lines are
skipped silently. Exit status: 0, 1 if some lines were skipped, 2 if the rules cannot be
used. Imports no Django: it starts in a few tens of milliseconds.

Input is handled a block at a time (up to 4 MiB of whole lines): the block is decoded and
parsed with the C JSON scanner, checked with C-level maps, matched as one batch, and its
output written at once. Lines of an unusual block take a slower line-by-line path.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tomllib
from collections.abc import Callable, Iterator
from itertools import repeat
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from kizuna.core.matcher import Matcher, PostAttributes, compile_rules
from kizuna.core.rules import RuleSpec, RuleSyntaxError

BLOCK_SIZE = 1 << 20
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


def load_rules(path: Path) -> list[RuleSpec]:
    """Read the [[rules]] tables (id, query, optional brand) of a workspace TOML file."""
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except OSError as error:
        raise RulesFileError(f"{path}: cannot read the rules file ({error.strerror or error})") from error
    except tomllib.TOMLDecodeError as error:
        raise RulesFileError(f"{path}: not valid TOML: {error}") from error
    tables = document.get("rules", [])
    if not isinstance(tables, list):
        raise RulesFileError(f"{path}: expected [[rules]] tables, found 'rules' as a {type(tables).__name__}")
    specs: list[RuleSpec] = []
    for number, table in enumerate(tables, start=1):
        where = f"{path}: rule #{number}"
        if not isinstance(table, dict):
            raise RulesFileError(f"{where}: expected a table")
        rule_id, query, brand = table.get("id"), table.get("query"), table.get("brand")
        if not isinstance(rule_id, str) or not rule_id:
            raise RulesFileError(f"{where}: expected a non-empty string 'id'")
        if not isinstance(query, str):
            raise RulesFileError(f"{where} (\"{rule_id}\"): expected a string 'query'")
        if brand is not None and not isinstance(brand, str):
            raise RulesFileError(f"{where} (\"{rule_id}\"): expected 'brand' to be a string")
        specs.append(RuleSpec(rule_id, query, brand))
    return specs


def _post_problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return f"expected a JSON object, found {type(obj).__name__}"
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


class _Block:
    """The valid posts of one block of input lines."""

    def __init__(self) -> None:
        self.objects: list[dict[str, Any]] = []
        self.ids: list[Any] = []
        self.texts: list[str] = []
        self.problems: list[tuple[int, str]] = []

    def parse_fast(self, lines: list[str]) -> bool:
        # C-level maps over the whole block; any surprise sends it to parse_slow.
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
        for key, allowed in _OPTIONAL_TYPES:
            if not set(map(type, map(dict.get, objects, repeat(key)))) <= allowed:
                return False
        self.objects, self.ids, self.texts = objects, ids, texts
        return True

    def parse_slow(self, lines: list[str], first_line: int) -> None:
        for number, line in enumerate(lines, start=first_line):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as error:
                self.problems.append((number, f"not valid JSON: {error}"))
                continue
            problem = _post_problem(obj)
            if problem is None:
                self.objects.append(obj)
                self.ids.append(obj["id"])
                self.texts.append(obj["text"])
            else:
                self.problems.append((number, problem))


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


def _attributes(objects: list[dict[str, Any]]) -> Callable[[int], PostAttributes]:
    def attributes(index: int) -> PostAttributes:
        obj = objects[index]
        return obj.get("lang"), obj.get("author"), obj.get("is_repost") is True, obj.get("is_reply") is True

    return attributes


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


def _blocks(stdin: BinaryIO) -> Iterator[bytes]:
    # read1 returns what is there (a pipe gives what has arrived, a file a whole block),
    # so a slow stream is answered as it comes.
    pending = b""
    while chunk := stdin.read1(BLOCK_SIZE):  # type: ignore[attr-defined]  # BufferedReader
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            pending += chunk
            continue
        yield pending + chunk[:cut]
        pending = chunk[cut:]
    if pending:
        yield pending + b"\n"


def run(matcher: Matcher, stdin: BinaryIO, stdout: BinaryIO, stderr: TextIO) -> int:
    """Match every JSONL post of stdin and write the results; return how many lines were skipped."""
    rule_json = {rule_id: json.dumps(rule_id, ensure_ascii=False) for rule_id in matcher.rule_ids}
    next_line = 1
    skipped = 0
    for data in _blocks(stdin):
        problems: list[tuple[int, str]] = []
        lines = _decode_lines(data, next_line, problems)
        lines.pop()  # the block ends with a newline
        block = _Block()
        if problems or not block.parse_fast(lines):
            block.parse_slow(lines, next_line)
            problems = sorted(problems + block.problems)
        for number, problem in problems:
            stderr.write(f"kizuna match: line {number}: {problem}; skipped\n")
        skipped += len(problems)
        next_line += len(lines)
        if block.objects:
            found = matcher.match_texts(block.texts, _attributes(block.objects))
            stdout.write(_output(block.ids, found, rule_json).encode("utf-8"))
            stdout.flush()
    return skipped


def main(argv: list[str]) -> int:
    """Run `kizuna match`; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="kizuna match",
        description="Match JSONL posts on stdin against the [[rules]] of a workspace TOML file.",
    )
    parser.add_argument("--rules", required=True, type=Path, metavar="FILE", help="workspace TOML with [[rules]]")
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
    # A block holds tens of thousands of fresh dicts, none of them in a cycle: without this
    # the cyclic collector walks them over and over and parsing takes twice as long.
    gc.disable()
    try:
        skipped = run(matcher, sys.stdin.buffer, sys.stdout.buffer, sys.stderr)
    except BrokenPipeError:
        return 0
    finally:
        gc.enable()
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
