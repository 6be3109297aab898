"""The compiled matcher: every rule of every brand in one Aho-Corasick automaton.

A batch of posts is normalized as one string (posts joined by NUL), projected to one byte
a character (see `normalize.project`) and scanned once for the terms that can make a rule
hold (its triggers: for `ポッキー (新作 OR 限定)` that is ポッキー alone). Each hit is checked
exactly (the projection is lossy) and for its boundaries: Latin terms must not sit inside
a longer Latin word, `#tag` and `@handle` must be whole hashtag and mention tokens. Only
posts with a trigger are scanned for the other terms, and only the rules they trigger are
evaluated, plus the few rules that could hold without any of their terms present
(`pocky OR lang:en`), which are evaluated for every post.

Compiling takes about 50 ms per thousand rules (a second for 20,000): when rules change,
compile a new Matcher and swap it in. A Matcher does not change once built (but for a
cache of checked hits) and can be shared between threads. For many posts at once,
`match_many` is several times faster than `match` on each.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

import ahocorasick_rs

from kizuna.core.normalize import SEPARATOR, finish_fold, normalize_handle, prefold_joined, project
from kizuna.core.rules import And, Node, Not, Operator, Or, RuleSpec, Term, is_hashtag_char, parse_rule, terms

__all__ = ["MatchInput", "Matcher", "PostAttributes", "compile_rules"]

# A URL: http(s):// after a non-letter, followed by something. The text is prefolded, in
# which A-Z are not yet lowered.
_LINK = re.compile(r"(?<![a-z0-9])https?://[^\s\x00]", re.IGNORECASE | re.ASCII)
# What may continue a mention token after the handle we looked for.
_HANDLE_CONTINUES = re.compile(r"[a-z0-9_]|[.\-@][a-z0-9_]", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class MatchInput:
    """A post as the matcher sees it."""

    text: str
    lang: str | None = None
    author: str | None = None
    is_repost: bool = False
    is_reply: bool = False


PostAttributes = tuple[str | None, str | None, bool, bool]
"""(lang, author, is_repost, is_reply) of a post, for `Matcher.match_texts`."""


class _Facts:
    """What rule operators ask of one post, computed on demand."""

    __slots__ = ("_author", "_data", "_end", "_start", "is_reply", "is_repost", "lang", "raw_author")

    def __init__(self, attributes: PostAttributes, data: str, start: int, end: int) -> None:
        lang, self.raw_author, self.is_repost, self.is_reply = attributes
        self.lang = lang.casefold() if lang else None
        self._author: str | None = None
        self._data, self._start, self._end = data, start, end

    def author(self) -> str | None:
        if self._author is None and self.raw_author:
            self._author = normalize_handle(self.raw_author)
        return self._author

    def has_link(self) -> bool:
        return _LINK.search(self._data, self._start, self._end) is not None


_Evaluator = Callable[[Set[int], _Facts], bool]


def _language_is(code: str) -> _Evaluator:
    prefix = code + "-"
    return lambda present, facts: facts.lang is not None and (facts.lang == code or facts.lang.startswith(prefix))


def _compile_node(node: Node, slot_of: dict[tuple[str, str], int]) -> _Evaluator:
    if isinstance(node, Term):
        slot = slot_of[_term_key(node)]
        return lambda present, facts: slot in present
    if isinstance(node, Operator):
        if node.name == "lang":
            return _language_is(node.value)
        if node.name == "from":
            handle = node.value
            return lambda present, facts: facts.author() == handle
        if node.name == "has":
            return lambda present, facts: facts.has_link()
        if node.value == "repost":
            return lambda present, facts: facts.is_repost
        return lambda present, facts: facts.is_reply
    if isinstance(node, Not):
        inner = _compile_node(node.operand, slot_of)
        return lambda present, facts: not inner(present, facts)
    parts = tuple(_compile_node(operand, slot_of) for operand in node.operands)
    return _all(parts) if isinstance(node, And) else _any(parts)


def _all(parts: tuple[_Evaluator, ...]) -> _Evaluator:
    if len(parts) == 2:
        first, second = parts
        return lambda present, facts: first(present, facts) and second(present, facts)

    return lambda present, facts: all(part(present, facts) for part in parts)


def _any(parts: tuple[_Evaluator, ...]) -> _Evaluator:
    if len(parts) == 2:
        first, second = parts
        return lambda present, facts: first(present, facts) or second(present, facts)

    return lambda present, facts: any(part(present, facts) for part in parts)


def _triggers(node: Node, cost: Callable[[Term], int]) -> frozenset[Term] | None:
    # Terms of which at least one must occur for node to hold (None: no such set, as for
    # an operator or an exclusion). An AND needs only one operand's set: take the one
    # least likely to occur, so that generic words shared by many rules ("新作") do not
    # make every post that has them a candidate for all those rules.
    if isinstance(node, Term):
        return frozenset((node,))
    if isinstance(node, Operator | Not):
        return None
    sets = [_triggers(operand, cost) for operand in node.operands]
    if isinstance(node, Or):
        return None if any(s is None for s in sets) else frozenset().union(*sets)  # type: ignore[arg-type]
    known = [s for s in sets if s is not None]
    return min(known, key=lambda s: sum(map(cost, s)), default=None)


def _term_key(term: Term) -> tuple[str, str]:
    kind = "text" if term.kind in ("word", "phrase") else term.kind
    return kind, term.text


def _is_latin_word_char(c: str) -> bool:
    return c.isalnum() and (c.isascii() or "\u00c0" <= c <= "\u024f" or "\u1e00" <= c <= "\u1eff")


class _Check(NamedTuple):
    """How to confirm a hit of a pattern as an occurrence of one term (slot)."""

    slot: int
    kind: str  # "text", "hashtag" or "mention"
    left: bool  # the pattern starts with a Latin letter or digit
    right: bool  # ... ends with one


def _confirmed(check: _Check, text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if check.kind == "text":
        return not (check.left and _is_latin_word_char(before)) and not (check.right and _is_latin_word_char(after))
    if check.kind == "hashtag":
        return not (before == "&" or (before and is_hashtag_char(before))) and not (after and is_hashtag_char(after))
    if before and before.isascii() and (before.isalnum() or before in "_!#$%&*@"):
        return False
    return _HANDLE_CONTINUES.match(text, end) is None


class Matcher:
    """Rules compiled for matching; build with compile_rules."""

    def __init__(self, rules: Sequence[tuple[RuleSpec, Node]]) -> None:
        self.rule_ids: tuple[str, ...] = tuple(spec.id for spec, _ in rules)
        self.brands: dict[str, str | None] = {spec.id: spec.brand for spec, _ in rules}
        slot_of: dict[tuple[str, str], int] = {}
        rules_using: Counter[tuple[str, str]] = Counter()
        for _, node in rules:
            keys = {_term_key(term) for term in terms(node)}
            rules_using.update(keys)
            for key in keys:
                slot_of.setdefault(key, len(slot_of))

        def cost(term: Term) -> int:
            return 16 * rules_using[_term_key(term)] + max(0, 8 - len(term.text))

        triggered: list[set[int]] = [set() for _ in slot_of]
        always: list[int] = []
        everywhere: set[int] = set()  # slots to look for in every post
        for index, (_, node) in enumerate(rules):
            trigger = _triggers(node, cost)
            if trigger is None:
                always.append(index)
                # Evaluated for every post, so every post must be searched for its terms.
                everywhere.update(slot_of[_term_key(term)] for term in terms(node))
            for term in trigger or ():
                slot = slot_of[_term_key(term)]
                triggered[slot].add(index)
                everywhere.add(slot)
        self._triggered = tuple(frozenset(r) for r in triggered)
        self._always = frozenset(always)
        self._evaluators = tuple(_compile_node(node, slot_of) for _, node in rules)

        pattern_index: dict[str, int] = {}
        self._patterns: list[str] = []
        self._checks: list[list[_Check]] = []
        for (kind, text), slot in slot_of.items():
            pattern = {"text": "", "hashtag": "#", "mention": "@"}[kind] + text
            index = pattern_index.setdefault(pattern, len(self._patterns))
            if index == len(self._patterns):
                self._patterns.append(pattern)
                self._checks.append([])
            left, right = _is_latin_word_char(text[0]), _is_latin_word_char(text[-1])
            self._checks[index].append(_Check(slot, kind, left, right))
        scanned = [any(c.slot in everywhere for c in checks) for checks in self._checks]
        self._trigger_patterns = [i for i, t in enumerate(scanned) if t]
        self._other_patterns = [i for i, t in enumerate(scanned) if not t]
        self._trigger_automaton = _automaton([self._patterns[i] for i in self._trigger_patterns])
        self._other_automaton = _automaton([self._patterns[i] for i in self._other_patterns])
        self._exact: dict[str, str] = {}  # hit text -> normalized; a cache

    def match(self, post: MatchInput) -> list[str]:
        """Return the sorted ids of the rules that post matches."""
        return self.match_many([post])[0]

    def match_many(self, posts: Sequence[MatchInput]) -> list[list[str]]:
        """Return, for each post in order, the sorted ids of the rules it matches."""
        found = self.match_texts(
            [p.text for p in posts], lambda i: (posts[i].lang, posts[i].author, posts[i].is_repost, posts[i].is_reply)
        )
        return [found.get(i, []) for i in range(len(posts))]

    def match_texts(self, texts: Sequence[str], attributes: Callable[[int], PostAttributes]) -> dict[int, list[str]]:
        """Match a batch of post texts; return {index: sorted rule ids} for the posts that match.

        attributes(i) gives the rest of post i; it is called only for posts that need it.
        """
        if not texts or not self.rule_ids:
            return {}
        text = prefold_joined(texts)
        projected = project(text)
        found = self._find_terms(text, projected)
        results: dict[int, list[str]] = {}
        triggered = self._triggered
        for index, (present, start, end) in found.items():
            candidates = self._always.union(*(triggered[slot] for slot in present))
            matched = self._evaluate(candidates, present, _Facts(attributes(index), text, start, end))
            if matched:
                results[index] = matched
        if self._always:
            start = 0
            for index, end in enumerate(_post_ends(text, len(texts))):
                if index not in found:
                    matched = self._evaluate(self._always, frozenset(), _Facts(attributes(index), text, start, end))
                    if matched:
                        results[index] = matched
                start = end + 1
        return results

    def _evaluate(self, candidates: Iterable[int], present: Set[int], facts: _Facts) -> list[str]:
        evaluators, rule_ids = self._evaluators, self.rule_ids
        return sorted(rule_ids[r] for r in candidates if evaluators[r](present, facts))

    def _find_terms(self, text: str, projected: bytes) -> dict[int, tuple[set[int], int, int]]:
        # -> {post index: (slots present, start, end of the post in text)} for the posts in
        # which a trigger occurs. Only those posts are scanned for the other terms
        # (exclusions, generic words ANDed with a brand name), which may be frequent.
        found: dict[int, tuple[set[int], int, int]] = {}
        if self._trigger_automaton is None:
            return found
        hits = self._trigger_automaton.find_matches_as_indexes(projected, overlapping=True)
        hits.sort(key=itemgetter(1))
        post, counted = 0, 0
        for index, start, end in hits:
            slots = self._confirm(self._trigger_patterns[index], text, start, end)
            if not slots:
                continue
            post += text.count(SEPARATOR, counted, start)
            counted = start
            entry = found.get(post)
            if entry is None:
                post_end = text.find(SEPARATOR, end)
                entry = found[post] = (
                    set(),
                    text.rfind(SEPARATOR, 0, start) + 1,
                    len(text) if post_end < 0 else post_end,
                )
            entry[0].update(slots)
        if self._other_automaton is not None:
            others, scan = self._other_patterns, self._other_automaton.find_matches_as_indexes
            for present, post_start, post_end in found.values():
                for index, start, end in scan(projected[post_start:post_end], overlapping=True):
                    present.update(self._confirm(others[index], text, post_start + start, post_start + end))
        return found

    def _confirm(self, pattern: int, text: str, start: int, end: int) -> list[int]:
        # The slots whose term this hit is an occurrence of.
        piece = text[start:end]
        exact = self._exact.get(piece)
        if exact is None:
            if len(self._exact) > 100_000:
                self._exact.clear()
            exact = self._exact[piece] = finish_fold(piece)
        if exact != self._patterns[pattern]:
            return []
        return [check.slot for check in self._checks[pattern] if _confirmed(check, text, start, end)]


def _automaton(patterns: list[str]) -> ahocorasick_rs.BytesAhoCorasick | None:
    if not patterns:
        return None
    return ahocorasick_rs.BytesAhoCorasick([project(p) for p in patterns])


def _post_ends(text: str, count: int) -> list[int]:
    ends: list[int] = []
    position = -1
    for _ in range(count - 1):
        position = text.index(SEPARATOR, position + 1)
        ends.append(position)
    ends.append(len(text))
    return ends


def compile_rules(rules: Iterable[RuleSpec]) -> Matcher:
    """Compile rules into a Matcher; raise RuleSyntaxError for the first bad rule.

    Rule ids must be unique (ValueError otherwise).
    """
    # Compiling makes many small objects that all live on; the cyclic collector would walk
    # them again and again (ten times the work for 20,000 rules). Nothing here is garbage.
    collecting = gc.isenabled()
    gc.disable()
    try:
        parsed: list[tuple[RuleSpec, Node]] = []
        seen: set[str] = set()
        for spec in rules:
            if spec.id in seen:
                raise ValueError(f'rule "{spec.id}": the id is used by another rule')
            seen.add(spec.id)
            parsed.append((spec, parse_rule(spec.id, spec.query)))
        return Matcher(parsed)
    finally:
        if collecting:
            gc.enable()
