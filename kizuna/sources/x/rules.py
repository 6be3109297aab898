"""Our rule language in X's query syntax, and keeping the filtered stream's rules in step.

A translated rule only has to catch at least what ours catches: every post X sends is
matched again by our matcher. So a positive word also asks for its hiragana/katakana twin
(our matcher folds kana, X does not), and a rule that cannot be said in X's syntax gives
None and is left to recent search or skipped by the caller.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from kizuna.core.rules import And, Node, Not, Operator, Term
from kizuna.sources.x.connector import XApi

MAX_RULE_LENGTH = 512  # filtered-stream rules on Basic and Pro; Enterprise allows 2,048
STREAM_RULES = "/2/tweets/search/stream/rules"
_X_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_PLAIN_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_OPERATORS = {("is", "repost"): "is:retweet", ("is", "reply"): "is:reply", ("has", "link"): "has:links"}
_HIRAGANA_TO_KATAKANA = {cp: cp + 0x60 for cp in range(0x3041, 0x3097)}
_KATAKANA_TO_HIRAGANA = {cp + 0x60: cp for cp in range(0x3041, 0x3097)}


class _Untranslatable(Exception):
    pass


def to_x_rule(node: Node, *, max_length: int = MAX_RULE_LENGTH) -> str | None:
    """Say a parsed rule in X's query syntax; None when X cannot express it.

    X requires every alternative of a rule to hold a standalone term (a keyword, a
    hashtag, a mention or from:), and accepts only X usernames after from: and @.
    """
    try:
        if not _has_standalone(node):
            raise _Untranslatable
        text = _say(node, top=True)
    except _Untranslatable:
        return None
    return text if len(text) <= max_length else None


def _say(node: Node, *, top: bool = False, negated: bool = False, anchored: bool = False) -> str:
    # `anchored`: an enclosing AND already holds a standalone term, which is all X asks of
    # lang:, is: and has: ("ポッキー (lang:ja OR lang:en)" is fine, "lang:ja OR ポッキー" is not).
    if isinstance(node, Term):
        return _term(node, negated)
    if isinstance(node, Operator):
        return _operator(node)
    if isinstance(node, Not):
        if isinstance(node.operand, Not):  # X has no "--"
            return _say(node.operand.operand, top=top, negated=negated, anchored=anchored)
        inner = _say(node.operand, negated=not negated, anchored=True)
        return f"-({inner})" if isinstance(node.operand, And) else f"-{inner}"
    if isinstance(node, And):
        anchored = anchored or any(_has_standalone(operand) for operand in node.operands)
        return " ".join(_say(operand, negated=negated, anchored=anchored) for operand in node.operands)
    if not (anchored or negated) and not all(_has_standalone(operand) for operand in node.operands):
        raise _Untranslatable
    parts: list[str] = []
    for operand in node.operands:
        if isinstance(operand, Term):
            parts.extend(_alternatives(operand, negated))
        elif isinstance(operand, And):  # X reads "a OR b c" as "a OR (b c)", but says so plainly
            parts.append("(" + _say(operand, negated=negated, anchored=anchored) + ")")
        else:
            parts.append(_say(operand, negated=negated, anchored=anchored))
    joined = " OR ".join(dict.fromkeys(parts))
    return joined if top else f"({joined})"


def _term(term: Term, negated: bool) -> str:
    alternatives = _alternatives(term, negated)
    return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"


def _alternatives(term: Term, negated: bool) -> list[str]:
    if term.kind == "mention":
        if not _X_USERNAME.fullmatch(term.text):
            raise _Untranslatable  # a Bluesky or Mastodon handle
        return [f"@{term.text}"]
    if term.kind == "hashtag":
        return [f"#{tag}" for tag in ([term.raw[1:]] if negated else _kana_twins(term.raw[1:]))]
    words = [term.raw] if negated else _kana_twins(term.raw)
    return [w if term.kind == "word" and _PLAIN_WORD.fullmatch(w) else f'"{w}"' for w in words]


def _kana_twins(word: str) -> list[str]:
    # Excluding only the exact word is safe (X then sends more, we drop it); including only
    # the exact word would lose the posts written in the other kana, which ours would catch.
    folded = unicodedata.normalize("NFKC", word)  # ＰＯＣＫＹ, ﾎﾟｯｷｰ: our matcher folds them too
    twins = [word, folded, folded.translate(_HIRAGANA_TO_KATAKANA), folded.translate(_KATAKANA_TO_HIRAGANA)]
    return list(dict.fromkeys(twins))


def _operator(op: Operator) -> str:
    if op.name == "lang":
        return f"lang:{op.value}"
    if op.name == "from":
        if not _X_USERNAME.fullmatch(op.value):
            raise _Untranslatable
        return f"from:{op.value}"
    return _OPERATORS[(op.name, op.value)]


def _has_standalone(node: Node) -> bool:
    if isinstance(node, Term):
        return True
    if isinstance(node, Operator):
        return node.name == "from"
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_has_standalone(operand) for operand in node.operands)
    return all(_has_standalone(operand) for operand in node.operands)


# --- rules sync --------------------------------------------------------------------------------


@dataclass
class RuleSync:
    """What a sync changed; `errors` maps a rule tag to X's reason for refusing it."""

    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def sync_stream_rules(api: XApi, wanted: Mapping[str, str], *, batch: int = 100) -> RuleSync:
    """Make the filtered stream's rules exactly `wanted` (tag → X rule), adding and deleting the difference.

    Tags are our rule ids, so a rule whose text changed is deleted and added again. Rules
    on the stream without a tag of ours are deleted too: the stream belongs to this source.
    Changes take about 20 seconds to reach the stream.
    """
    current = api.get(STREAM_RULES).get("data") or []
    sync = RuleSync()
    kept: set[str] = set()
    stale: list[str] = []
    for rule in current:
        tag, value, rule_id = rule.get("tag", ""), rule.get("value", ""), str(rule.get("id", ""))
        if tag in wanted and wanted[tag] == value and tag not in kept:
            kept.add(tag)
            sync.unchanged.append(tag)
        else:
            stale.append(rule_id)
            sync.deleted.append(tag or value)
    for i in range(0, len(stale), batch):
        api.request("POST", STREAM_RULES, body={"delete": {"ids": stale[i : i + batch]}})
    additions = [{"value": value, "tag": tag} for tag, value in wanted.items() if tag not in kept]
    for i in range(0, len(additions), batch):
        chunk = additions[i : i + batch]
        doc = api.request("POST", STREAM_RULES, body={"add": chunk})
        by_value = {item["value"]: item["tag"] for item in chunk}
        created = {str(rule.get("tag")) for rule in doc.get("data") or [] if isinstance(rule, dict)}
        for error in doc.get("errors") or []:
            if isinstance(error, dict):
                value = str(error.get("value", "?"))
                tag = by_value.get(value, value)
                sync.errors[tag] = str(error.get("title") or error.get("message") or error)[:300]
        sync.added.extend(item["tag"] for item in chunk if item["tag"] in created)
    return sync
