from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.normalize import (
    _STABLE_RANGES,
    SEPARATOR,
    finish_fold,
    normalize,
    normalize_handle,
    prefold_joined,
    project,
)

# Characters that exercise every step: width, case, kana, voiced marks, long vowels, white
# space, compatibility forms, combining marks, length-changing case folds, the separator.
TRICKY = (
    "aAzZ09 ｱｶﾞﾊﾟぁァかがカガゔヴわワゐヰをヲ\u3099\u309a゛゜ーｰ〜～~ \u3000\n\t\r\x0b\x85\u2028\x00"
    "！？（）：…①㈱㍿ǰİßﬁＡｚ０é\u0301\u0300ĳ㌀ﾞﾟ#＃@＠・ヿゟヽヾゝゞ漢字ポッキー🍫😂\ufe0f"
)
texts = st.text(alphabet=st.sampled_from(TRICKY) | st.characters(codec="utf-8"), max_size=40)


def reference(text: str) -> str:
    """The definition, spelled out step by step without any of the fast paths."""
    text = text.replace("\x00", " ")
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    text = re.sub(r"\s+", " ", text)
    text = re.sub("[〜~ー]+", "ー", text)
    for decomposed, composed in (("わ\u3099", "ヷ"), ("ゐ\u3099", "ヸ"), ("ゑ\u3099", "ヹ"), ("を\u3099", "ヺ")):
        text = text.replace(decomposed, composed)
    text = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" or c in "ゝゞ" else c for c in text)
    return text.strip(" ")


def test_it_applies_nfkc() -> None:
    assert normalize("ＰＯＣＫＹ２０２４！") == "pocky2024!"
    assert normalize("ｶﾞﾁｬ") == "ガチャ"
    assert normalize("①㈱") == "1(株)"


def test_it_folds_case() -> None:
    assert normalize("Pocky POCKY pocky") == "pocky pocky pocky"
    assert normalize("Straße") == "strasse"


def test_it_folds_hiragana_into_katakana() -> None:
    assert normalize("ぽっきー") == normalize("ポッキー") == normalize("ﾎﾟｯｷｰ") == "ポッキー"
    assert normalize("ゔぁゝ") == "ヴァヽ"


def test_it_treats_the_long_vowel_marks_as_one() -> None:
    assert {normalize(f"ポッキ{mark}") for mark in "ーｰ〜～~"} == {"ポッキー"}
    assert normalize("すご〜〜〜いーー") == "スゴーイー"


def test_it_makes_runs_of_white_space_one_space() -> None:
    assert normalize("ポッキー\u3000\u3000食べた\n\n\tおいしい  w") == "ポッキー 食ベタ オイシイ w"


def test_it_strips_the_ends() -> None:
    assert normalize("\u3000 ポッキー \n") == "ポッキー"


def test_it_treats_nul_as_white_space() -> None:
    assert normalize("a\x00b") == "a b"


def test_it_composes_the_voiced_wa_row_like_nfkc() -> None:
    assert normalize("わ\u3099") == normalize("ヷ") == "ヷ"


def test_it_normalizes_a_handle_without_its_at() -> None:
    assert normalize_handle("＠Pocky_JP") == "pocky_jp"


def test_it_never_makes_the_separator_or_a_newline_with_nfkc() -> None:
    # Joining posts with NUL and replacing "\n" before NFKC relies on this.
    made = [
        cp
        for cp in range(sys.maxunicode + 1)
        if not 0xD800 <= cp < 0xE000
        and cp not in (0, 10)
        and set(unicodedata.normalize("NFKC", chr(cp))) & {"\x00", "\n"}
    ]
    assert made == []


def test_it_only_calls_characters_stable_that_are() -> None:
    stable = re.compile(f"[{_STABLE_RANGES}]")
    seconds = {
        chr(int(d.split()[1], 16))
        for cp in range(sys.maxunicode + 1)
        if (d := unicodedata.decomposition(chr(cp))) and not d.startswith("<") and len(d.split()) == 2
    }
    wrong = [
        hex(cp)
        for cp in range(sys.maxunicode + 1)
        if stable.match(c := chr(cp))
        and (
            unicodedata.normalize("NFKC", c) != c
            or unicodedata.combining(c)
            or c in seconds
            or (c.casefold() != c and not "A" <= c <= "Z")
        )
    ]
    assert wrong == []


@given(texts)
def test_it_matches_the_definition(text: str) -> None:
    assert normalize(text) == reference(text)


@given(texts)
def test_it_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


@given(st.lists(texts, min_size=1, max_size=6))
def test_it_normalizes_a_joined_batch_like_each_text(batch: list[str]) -> None:
    joined = prefold_joined(batch)
    assert joined.count(SEPARATOR) == len(batch) - 1
    assert [finish_fold(piece).strip(" ") for piece in joined.split(SEPARATOR)] == [normalize(t) for t in batch]


@given(texts)
def test_it_projects_one_byte_a_character_blind_to_the_finishing_fold(text: str) -> None:
    prefolded = prefold_joined([text])
    assert len(project(prefolded)) == len(prefolded)
    assert project(prefolded) == project(finish_fold(prefolded))
