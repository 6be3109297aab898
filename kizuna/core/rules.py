"""The keyword rule language: lexer, parser, syntax tree and errors.

    (ポッキー OR pocky) -ポッキーゲーム lang:ja -is:repost

Terms are ANDed; `OR` binds looser than the implicit AND; `-term` and `NOT term` exclude
(a post is excluded if the term occurs anywhere in it); parentheses group. `"a phrase"`
is one term; `#tag` matches the hashtag only and `@handle` a mention of that account.
Operators: `lang:ja`, `from:handle`, `is:repost`, `is:reply`, `has:link`. `AND` is
accepted and means the same as a space. The full-width forms of the syntax characters
（）＂＃＠－：ＯＲ work too, as Japanese input methods produce them.

Positions in errors are 0-based character offsets into the query as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

from kizuna.core.normalize import normalize, normalize_handle

# Rule sets repeat their words ("新作", "壊れた" in hundreds of rules): normalize each once.
_normalize = lru_cache(maxsize=65536)(normalize)
_normalize_handle = lru_cache(maxsize=65536)(normalize_handle)

TermKind = Literal["word", "phrase", "hashtag", "mention"]
OperatorName = Literal["lang", "from", "is", "has"]

_OPERATOR_VALUES: dict[str, tuple[str, ...]] = {"is": ("repost", "reply"), "has": ("link",)}
_OPERATOR_ALIASES = {("is", "retweet"): "repost"}
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
HANDLE = re.compile(r"[a-z0-9_]+(?:[.\-@][a-z0-9_]+)*")
"""A normalized account handle: X/Bluesky/Mastodon style, without the leading @."""

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    | (?P<open>[(（])
    | (?P<close>[)）])
    | (?P<quote>["＂“”])(?P<phrase>[^"＂“”]*)(?P<closed>["＂“”])?
    | (?P<minus>[-－])(?P<bare>(?=\s|[)）]|$))?
    | (?P<word>[^\s()（）"＂“”]+)""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class RuleSpec:
    """A rule as stored: its id, its query text and the brand that owns it."""

    id: str
    query: str
    brand: str | None = None


@dataclass(frozen=True)
class Term:
    """Text to look for, normalized; `raw` is as written."""

    text: str
    kind: TermKind
    raw: str
    position: int


@dataclass(frozen=True)
class Operator:
    """A post attribute test such as lang:ja or is:repost (value normalized)."""

    name: OperatorName
    value: str
    position: int


@dataclass(frozen=True)
class Not:
    """Excludes posts for which the operand holds."""

    operand: Node
    position: int


@dataclass(frozen=True)
class And:
    """Holds when all operands hold."""

    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Holds when any operand holds."""

    operands: tuple[Node, ...]


Node = Term | Operator | Not | And | Or


class RuleSyntaxError(ValueError):
    """A rule that cannot be parsed: which rule, where, and what was expected there."""

    def __init__(self, rule_id: str, position: int, expected: str, found: str | None = None) -> None:
        self.rule_id = rule_id
        self.position = position
        self.expected = expected
        self.found = found
        message = f'rule "{rule_id}": position {position}: expected {expected}'
        if found is not None:
            message += f", found {found}"
        self.message = message
        super().__init__(message)


TokenKind = Literal["(", ")", "OR", "AND", "NOT", "-", "term", "phrase", "end"]


_KEYWORDS: dict[str, TokenKind] = {"OR": "OR", "AND": "AND", "NOT": "NOT"}


class _Token(NamedTuple):
    kind: TokenKind
    text: str
    position: int

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the rule"
        if self.kind == "phrase":
            return f'"{self.text}"'
        return f"'{self.text}'"


def _tokens(rule_id: str, query: str) -> Iterator[_Token]:
    for match in _TOKEN.finditer(query):
        kind, start = match.lastgroup, match.start()
        if kind == "word":
            text = match.group()
            yield _Token(_KEYWORDS.get(unicodedata.normalize("NFKC", text), "term"), text, start)
        elif kind == "open" or kind == "close":
            yield _Token("(" if kind == "open" else ")", match.group(), start)
        elif kind == "closed":
            yield _Token("phrase", match.group("phrase"), start)
        elif kind == "phrase":  # no closing quote
            raise RuleSyntaxError(rule_id, len(query), f"'\"' to close the phrase opened at position {start}")
        elif kind == "minus":
            yield _Token("-", match.group(), start)
        elif kind == "bare":  # a minus followed by nothing to exclude
            found = None if match.end() == len(query) else f"'{query[match.end()]}'"
            raise RuleSyntaxError(rule_id, match.end(), f"a term after '{match.group()}'", found)
    yield _Token("end", "", len(query))


MAX_DEPTH = 50
"""How deeply groups and exclusions may nest (deeper would exhaust Python's stack)."""


class _Parser:
    def __init__(self, rule_id: str, query: str) -> None:
        self.rule_id = rule_id
        self.tokens = list(_tokens(rule_id, query))
        self.index = 0
        self.depth = 0

    def nest(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleSyntaxError(self.rule_id, token.position, f"at most {MAX_DEPTH} levels of groups and exclusions")

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expected: str, token: _Token | None = None) -> RuleSyntaxError:
        token = token or self.token
        found = None if token.kind == "end" else token.describe()
        return RuleSyntaxError(self.rule_id, token.position, expected, found)

    def parse(self) -> Node:
        node = self.parse_or(None)
        if self.token.kind == ")":
            raise self.fail("a term, 'OR' or the end of the rule (this ')' closes no '(')")
        return node

    def parse_or(self, opened: _Token | None) -> Node:
        operands = [self.parse_and(opened)]
        while self.token.kind == "OR":
            operator = self.advance()
            if self.token.kind in ("end", ")", "OR", "AND"):
                raise self.fail(f"a term after {operator.describe()}")
            operands.append(self.parse_and(opened))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self, opened: _Token | None) -> Node:
        operands: list[Node] = []
        while True:
            kind = self.token.kind
            if kind == "end" or kind == ")" or kind == "OR":
                break
            if kind == "AND":
                operator = self.advance()
                if not operands or self.token.kind in ("end", ")", "OR", "AND"):
                    where = "before" if not operands else "after"
                    raise self.fail(f"a term {where} {operator.describe()}", operator if not operands else None)
                continue
            operands.append(self.parse_unary())
        if not operands:
            if self.token.kind == "OR":
                raise self.fail("a term before 'OR'")
            if opened is not None and self.token.kind == ")":
                raise self.fail(f"a term inside the '(' opened at position {opened.position}")
            raise self.fail("a term")
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_unary(self) -> Node:
        token = self.token
        if token.kind in ("-", "NOT"):
            self.advance()
            if self.token.kind in ("end", ")", "OR", "AND"):
                raise self.fail(f"a term after {token.describe()}")
            self.nest(token)
            node = Not(self.parse_unary(), token.position)
            self.depth -= 1
            return node
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.advance()
        if token.kind == "(":
            self.nest(token)
            node = self.parse_or(token)
            if self.token.kind != ")":
                raise self.fail(f"')' to close '(' opened at position {token.position}")
            self.advance()
            self.depth -= 1
            return node
        if token.kind == "phrase":
            text = _normalize(token.text)
            if not text:
                raise RuleSyntaxError(self.rule_id, token.position + 1, "text inside the quotes")
            return Term(text, "phrase", token.text, token.position)
        if token.kind == "term":
            return self.parse_term(token)
        raise self.fail("a term", token)  # pragma: no cover - parse_and/parse_unary stop first

    def parse_term(self, token: _Token) -> Node:
        word, position = token.text, token.position
        if word[0] in "#＃":
            tag = _normalize(word[1:])
            if not tag or not all(map(is_hashtag_char, tag)):
                # Point at the first character written that cannot be part of a hashtag.
                bad = next((k for k, c in enumerate(word[1:]) if not all(map(is_hashtag_char, _normalize(c)))), 0)
                expected = "letters, digits or '_' after '#' (a hashtag)"
                raise RuleSyntaxError(self.rule_id, position + 1 + bad, expected)
            return Term(tag, "hashtag", word, position)
        if word[0] in "@＠":
            handle = _normalize_handle(word)
            if not HANDLE.fullmatch(handle):
                raise RuleSyntaxError(self.rule_id, position + 1, "an account handle after '@' (letters, digits, '_')")
            return Term(handle, "mention", word, position)
        name, colon, value = _normalize(word).partition(":")
        if colon and name in ("lang", "from", "is", "has"):
            return self.parse_operator(name, value, token)
        text = _normalize(word)
        if not text:
            raise RuleSyntaxError(self.rule_id, position, "a term", f"'{word}'")
        return Term(text, "word", word, position)

    def parse_operator(self, name: str, value: str, token: _Token) -> Operator:
        at = token.position + token.text.replace("：", ":").index(":") + 1
        if name == "lang":
            if not _LANGUAGE.fullmatch(value):
                raise RuleSyntaxError(self.rule_id, at, "a language code such as 'ja' or 'en' after 'lang:'")
            return Operator("lang", value, token.position)
        if name == "from":
            handle = value.lstrip("@")
            if not HANDLE.fullmatch(handle):
                raise RuleSyntaxError(self.rule_id, at, "an account handle after 'from:'")
            return Operator("from", handle, token.position)
        allowed = _OPERATOR_VALUES[name]
        value = _OPERATOR_ALIASES.get((name, value), value)
        if value not in allowed:
            choices = " or ".join(f"'{v}'" for v in allowed)
            raise RuleSyntaxError(self.rule_id, at, f"{choices} after '{name}:'")
        return Operator("is" if name == "is" else "has", value, token.position)


def is_hashtag_char(c: str) -> bool:
    """Tell whether c can continue a hashtag (letters, digits, marks, _ and a few joiners)."""
    return c.isalnum() or c in "_\u200c\u200d\u30fb\u3003\u00b7\u30a0" or unicodedata.category(c)[0] == "M"


def parse_rule(rule_id: str, query: str) -> Node:
    """Parse a rule query into its syntax tree; raise RuleSyntaxError if it is malformed."""
    node = _Parser(rule_id, query).parse()
    if not any(True for _ in positive_terms(node)):
        raise RuleSyntaxError(
            rule_id,
            0,
            'at least one term to look for that is not excluded (a word, a "phrase", a #tag or an @handle): '
            "a rule of only exclusions and operators would match almost every post",
        )
    return node


def positive_terms(node: Node, negated: bool = False) -> Iterator[Term]:
    """Yield the terms of node that are under an even number of negations."""
    if isinstance(node, Term):
        if not negated:
            yield node
    elif isinstance(node, Not):
        yield from positive_terms(node.operand, not negated)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from positive_terms(operand, negated)


def terms(node: Node) -> Iterator[Term]:
    """Yield every term of node, negated or not."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, Not):
        yield from terms(node.operand)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from terms(operand)
