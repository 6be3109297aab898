"""Japanese-aware text normalization shared by rules and posts.

`normalize` is the definition: NFKC with case folding (NFKC, casefold, NFKC), hiragana
folded into katakana, the long-vowel marks ー ｰ 〜 ～ (and so ASCII ~, which NFKC makes of
～) folded into one ー with runs of it collapsed, NUL and runs of white space (U+3000
included) made one space, and the ends stripped.

The matcher cannot afford that post by post: CPython's NFKC costs ~250 ns a character once
a string holds anything to change, and `str.translate` ~150 ns. So `prefold_joined` does
the same work for a whole batch of posts at once with C-speed string operations, leaving
two character maps (A-Z to a-z, hiragana to katakana) undone: `finish_fold` applies them
to a short slice, and `project` makes of the whole batch one byte a character in which
they (and more) are already equal, for the automaton to scan. The tests check all of this
against the definition spelled out step by step.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from itertools import chain

SEPARATOR = "\x00"
"""Joins posts in a batch. It can neither compose with nor be produced by NFKC, so
normalizing a joined batch equals joining the normalized posts."""

LONG_VOWEL = "ー"

# Characters that NFKC leaves alone, that start a new normalization segment (combining
# class 0, never the second half of a composition) and that case folding leaves alone
# (except A-Z, which `finish_fold` and `project` fold). Japanese posts are almost
# entirely made of these, so only the rare runs of other characters go through NFKC.
# tests/core/test_normalize.py checks every character of these ranges.
_STABLE_RANGES = (  # most frequent first: the regex tries them in order
    "\u3041-\u3096\u30a0-\u30fe\u4e00-\u9fff\x00-\x0a\x0d-\x1b\x20-\x7f"
    "\u3001-\u3029\u309d\u309e\u3400-\u4dbf"
    "\u2010\u2012-\u2016\u2018-\u2023\u2027\u2190-\u21ff\u2500-\u27bf"
    "\U0001f300-\U0001faff"
)
# Split around runs of stable characters: the possessive run keeps the regex in its tight
# loop instead of trying a match at every position.
_STABLE_RUN = re.compile(f"([{_STABLE_RANGES}]++)")

# Frequent in Japanese posts and mapped by NFKC to one ASCII character (or three dots):
# replacing them up front keeps them out of the slower per-run path.
_COMMON_COMPAT = tuple((c, unicodedata.normalize("NFKC", c)) for c in "！？（）：\u3000～…")

# White space that survives NFKC (the rest, U+3000 included, NFKC makes a space).
# (\t \n \r are replaced up front; the rare others are left out of the stable ranges and
# replaced with the unstable runs they then belong to.)
_RARE_WHITE_SPACE = "\x0b\x0c\x1c\x1d\x1e\x1f\x85\u1680\u2028\u2029"

# Katakana with the voiced mark that have no hiragana counterpart: after folding わ゙ into
# katakana, NFKC would compose it, so compose it here to stay idempotent.
_VOICED_WA_ROW = (("わ\u3099", "ヷ"), ("ゐ\u3099", "ヸ"), ("ゑ\u3099", "ヹ"), ("を\u3099", "ヺ"))

_HIRAGANA_TO_KATAKANA = {cp: cp + 0x60 for cp in (*range(0x3041, 0x3097), 0x309D, 0x309E)}
_FINISH_TABLE: dict[int, int] = {**_HIRAGANA_TO_KATAKANA, **{cp: cp + 0x20 for cp in range(0x41, 0x5B)}}


def _projection_table() -> bytes:
    # Characters that `finish_fold` equates get the same byte: unite the low bytes of
    # each mapped pair (A and a, ぁ and ァ, ...) and map each class to its smallest byte.
    parent = list(range(256))

    def find(b: int) -> int:
        while parent[b] != b:
            b = parent[b]
        return b

    for code, folded in _FINISH_TABLE.items():
        x, y = find(code & 0xFF), find(folded & 0xFF)
        parent[max(x, y)] = min(x, y)
    return bytes(find(b) for b in range(256))


_PROJECTION = _projection_table()


def normalize(text: str) -> str:
    """Return the canonical form of text that rules and posts are compared in."""
    return finish_fold(prefold_joined([text])).strip(" ")


def normalize_handle(handle: str) -> str:
    """Return the canonical form of an account handle: normalized, without a leading @."""
    return normalize(handle).lstrip("@")


def prefold_joined(texts: Sequence[str]) -> str:
    """Normalize texts joined by SEPARATOR, all but A-Z lowering and kana folding.

    The result has exactly len(texts) - 1 separators; ends are not stripped.
    """
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) != len(texts) - 1:
        joined = SEPARATOR.join(t.replace(SEPARATOR, " ") for t in texts)
    # White space first: NFKC never makes these, and without "\n" in the text it can
    # join the unstable runs below.
    for space in "\n\t\r":
        joined = joined.replace(space, " ")
    for compat, plain in _COMMON_COMPAT:
        joined = joined.replace(compat, plain)
    joined = _fold_unstable_runs(joined)
    while "  " in joined:
        joined = joined.replace("  ", " ")
    joined = joined.replace("〜", LONG_VOWEL).replace("~", LONG_VOWEL)
    while "ーー" in joined:
        joined = joined.replace("ーー", LONG_VOWEL)
    if "\u3099" in joined:
        for decomposed, composed in _VOICED_WA_ROW:
            joined = joined.replace(decomposed, composed)
    return joined


def _fold_unstable_runs(joined: str) -> str:
    # Each run of unstable characters is normalized together with the stable character
    # before it (a combining mark may compose with it); the stable character after the
    # run starts a new segment, so segments normalize independently. All segments go
    # through NFKC in one call, joined by "\n", which no segment contains any more.
    pieces = _STABLE_RUN.split(joined)
    unstable, stable = pieces[0::2], pieces[1::2]
    if not any(unstable):
        return joined
    segments = [unstable[0], *(run[-1] + other for run, other in zip(stable, unstable[1:], strict=True))]
    folded = _nfkc_casefold("\n".join(segments)).split("\n")
    kept = [run[:-1] for run in stable]
    return folded[0] + "".join(chain.from_iterable(zip(kept, folded[1:], strict=True)))


def _nfkc_casefold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not unicodedata.is_normalized("NFKC", folded):
        folded = unicodedata.normalize("NFKC", folded)
    for space in _RARE_WHITE_SPACE:
        if space in folded:
            folded = folded.replace(space, " ")
    return folded


def finish_fold(prefolded: str) -> str:
    """Apply the character maps that prefold_joined leaves undone (A-Z, kana)."""
    return prefolded.translate(_FINISH_TABLE)


def project(prefolded: str) -> bytes:
    """Return one byte a character, equal wherever finish_fold makes the characters equal.

    The byte is the low byte of the code point, folded: a lossy image of the text, a third
    the size of its UTF-8, with byte i standing for character i. Lossy means a hit must be
    checked against the text.
    """
    return prefolded.encode("utf-32-le", "surrogatepass")[::4].translate(_PROJECTION)
