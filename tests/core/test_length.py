"""Per-platform length and entity extraction.

The X part is checked against twitter-text's conformance suite, read at test time from
``../shared/conformance/twitter-text`` (skipped, with the reason, where that folder or PyYAML is
missing); every case of the weighted-length, tweet-validity and mention/URL/hashtag/reply
extraction sections is a test of its own.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core import length as L
from kizuna.core.length_tlds import COUNTRY_TLDS, GENERIC_TLDS

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SUITE = SHARED / "conformance" / "twitter-text" / "conformance"


@cache
def _suite(name: str) -> dict[str, Any] | str:
    """Return a conformance YAML file, or the reason it cannot be read."""
    path = SUITE / name
    if not path.exists():
        return f"twitter-text conformance suite not found at {path}"
    try:
        import yaml
    except ImportError:
        return "PyYAML is not installed; it reads the twitter-text conformance suite"
    with path.open(encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


def _cases(name: str, *sections: str) -> list[Any]:
    data = _suite(name)
    if isinstance(data, str):
        return [pytest.param(None, marks=pytest.mark.skip(reason=data), id="suite-unavailable")]
    return [
        pytest.param(case, id=f"{section}-{i}") for section in sections for i, case in enumerate(data["tests"][section])
    ]


def _parse_as_suite(text: str, config: str) -> dict[str, Any]:
    r = L.parse_x_text(text, config)
    return {
        "weightedLength": r.weighted_length,
        "valid": r.valid,
        "permillage": r.permillage,
        "displayRangeStart": r.display_range[0],
        "displayRangeEnd": r.display_range[1],
        "validRangeStart": r.valid_range[0],
        "validRangeEnd": r.valid_range[1],
    }


# --- twitter-text conformance: validate.yml ------------------------------------------------------


@pytest.mark.parametrize("case", _cases("validate.yml", "WeightedTweetsCounterTest"))
def test_it_weighs_text_like_twitter_text_with_config_v2(case: dict[str, Any]) -> None:
    assert _parse_as_suite(case["text"], "v2") == case["expected"], case["description"]


@pytest.mark.parametrize(
    "case",
    _cases("validate.yml", "WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest"),
)
def test_it_weighs_text_like_twitter_text_with_config_v3(case: dict[str, Any]) -> None:
    assert _parse_as_suite(case["text"], "v3") == case["expected"], case["description"]


@pytest.mark.parametrize("case", _cases("validate.yml", "tweets"))
def test_it_validates_tweets_like_twitter_text_with_config_v1(case: dict[str, Any]) -> None:
    assert L.parse_x_text(case["text"], "v1").valid is case["expected"], case["description"]


# --- twitter-text conformance: extract.yml ------------------------------------------------------


@pytest.mark.parametrize("case", _cases("extract.yml", "mentions"))
def test_it_extracts_mentions_like_twitter_text(case: dict[str, Any]) -> None:
    got = [e.value for e in L.extract_mentions_with_indices(case["text"])]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", _cases("extract.yml", "mentions_with_indices"))
def test_it_extracts_mention_indices_like_twitter_text(case: dict[str, Any]) -> None:
    got = [{"screen_name": e.value, "indices": [e.start, e.end]} for e in L.extract_mentions_with_indices(case["text"])]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", _cases("extract.yml", "mentions_or_lists_with_indices"))
def test_it_extracts_mentions_and_lists_like_twitter_text(case: dict[str, Any]) -> None:
    got = [
        {"screen_name": e.value, "list_slug": e.list_slug, "indices": [e.start, e.end]}
        for e in L.extract_mentions_or_lists_with_indices(case["text"])
    ]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", _cases("extract.yml", "replies"))
def test_it_extracts_replies_like_twitter_text(case: dict[str, Any]) -> None:
    assert L.extract_reply_screen_name(case["text"]) == case["expected"], case["description"]


@pytest.mark.parametrize("case", _cases("extract.yml", "urls", "tco_urls_with_params"))
def test_it_extracts_urls_like_twitter_text(case: dict[str, Any]) -> None:
    got = [e.value for e in L.extract_urls_with_indices(case["text"])]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", _cases("extract.yml", "urls_with_indices", "urls_with_directional_markers"))
def test_it_extracts_url_indices_like_twitter_text(case: dict[str, Any]) -> None:
    got = [{"url": e.value, "indices": [e.start, e.end]} for e in L.extract_urls_with_indices(case["text"])]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", _cases("extract.yml", "hashtags", "hashtags_from_astral"))
def test_it_extracts_hashtags_like_twitter_text(case: dict[str, Any]) -> None:
    got = [e.value for e in L.extract_hashtags_with_indices(case["text"])]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", _cases("extract.yml", "hashtags_with_indices"))
def test_it_extracts_hashtag_indices_like_twitter_text(case: dict[str, Any]) -> None:
    got = [{"hashtag": e.value, "indices": [e.start, e.end]} for e in L.extract_hashtags_with_indices(case["text"])]
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("case", _cases("tlds.yml", "country", "generic"))
def test_it_extracts_urls_on_every_known_tld(case: dict[str, Any]) -> None:
    assert [e.value for e in L.extract_urls_with_indices(case["text"])] == case["expected"], case["description"]


def test_it_ships_the_tld_list_of_the_conformance_suite() -> None:
    data = _suite("tld_lib.yml")
    if isinstance(data, str):
        pytest.skip(data)
    assert list(GENERIC_TLDS) == data["generic"]
    assert list(COUNTRY_TLDS) == data["country"]


# --- X ------------------------------------------------------------------------------------------


def test_it_fills_an_x_post_with_140_japanese_characters() -> None:
    assert L.x_weighted_length("あ" * 140) == L.LengthResult(used=280, limit=280, valid=True)
    assert L.x_weighted_length("あ" * 141) == L.LengthResult(used=282, limit=280, valid=False)


def test_it_counts_japanese_punctuation_as_two_and_latin_as_one() -> None:
    assert L.x_weighted_length("鈴木です。").used == 10
    assert L.x_weighted_length("Thanks!").used == 7
    assert L.x_weighted_length("“quoted” – ok").used == 13  # General Punctuation quotes and dashes weigh 1


def test_it_counts_every_url_as_23_on_x() -> None:
    long_url = "https://example.com/" + "a" * 200
    assert L.x_weighted_length(f"詳しくは {long_url} をご覧ください").used == 8 + 1 + 23 + 1 + 14
    assert L.x_weighted_length("t.co/abc").used == 23


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("👍", 2),
        ("👍🏻", 2),  # modifier sequence
        ("👨‍👩‍👧‍👦", 2),  # ZWJ sequence
        ("🇯🇵", 2),  # flag
        ("1️⃣", 2),  # keycap
        ("©", 1),  # text-default and in the Latin range: not an emoji without U+FE0F
        ("©️", 2),
        ("❤️", 2),
        ("☺︎", 4),  # U+FE0E asks for text presentation: two characters of weight 2
        ("☆", 2),  # not an emoji; outside the weight-1 ranges
    ],
)
def test_it_counts_each_emoji_sequence_as_two_on_x(text: str, weight: int) -> None:
    assert L.x_weighted_length(text).used == weight


def test_it_rejects_empty_and_blank_x_posts() -> None:
    assert L.x_weighted_length("") == L.LengthResult(used=0, limit=280, valid=False)
    assert L.x_weighted_length("  \n").valid is False


def test_it_rejects_x_posts_with_invalid_characters() -> None:
    assert L.x_weighted_length("ok\ufffe").valid is False


def test_it_takes_another_limit_for_x() -> None:
    assert L.x_weighted_length("a" * 300, limit=25000) == L.LengthResult(used=300, limit=25000, valid=True)


def test_it_rejects_an_unknown_twitter_text_config() -> None:
    with pytest.raises(ValueError, match="v9"):
        L.x_weighted_length("hi", config="v9")


def test_it_reports_the_valid_range_in_utf16_units() -> None:
    parsed = L.parse_x_text("😷" * 141)
    assert parsed.weighted_length == 282
    assert parsed.valid_range == (0, 279)  # 140 emoji of two UTF-16 units each
    assert parsed.display_range == (0, 281)


def test_it_extracts_entities_in_text_order_without_overlaps() -> None:
    entities = L.extract_entities_with_indices("@alice see https://example.com/#tag and #ポッキー")
    assert [(e.kind, e.value) for e in entities] == [
        ("mention", "alice"),
        ("url", "https://example.com/#tag"),
        ("hashtag", "ポッキー"),
    ]


@given(st.text(max_size=80))
def test_it_extracts_entities_whose_spans_hold_their_values(text: str) -> None:
    for e in L.extract_entities_with_indices(text):
        assert 0 <= e.start < e.end <= len(text)
        if e.kind == "url":
            assert text[e.start : e.end] == e.value
        else:
            assert text[e.start + 1 : e.end] == e.value + e.list_slug


@given(st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3096), max_size=200))
def test_it_weighs_kana_two_each(text: str) -> None:
    assert L.x_weighted_length(text).used == 2 * len(text)


@given(st.text(max_size=120))
def test_it_never_reports_a_valid_range_beyond_the_text(text: str) -> None:
    parsed = L.parse_x_text(text)
    assert 0 <= parsed.valid_range[1] <= max(L.utf16_length(text) - 1, 0)
    assert parsed.permillage == parsed.weighted_length * 1000 // 280


# --- Bluesky ------------------------------------------------------------------------------------


def test_it_counts_graphemes_for_bluesky() -> None:
    assert L.bluesky_length("👨‍👩‍👧‍👦がが") == L.LengthResult(used=3, limit=300, valid=True)
    assert L.bluesky_length("あ" * 300).valid is True
    assert L.bluesky_length("あ" * 301) == L.LengthResult(used=301, limit=300, valid=False)


def test_it_rejects_bluesky_posts_over_3000_bytes() -> None:
    text = "👨‍👩‍👧‍👦" * 150  # 150 graphemes, 25 bytes each
    assert L.bluesky_length(text) == L.LengthResult(used=150, limit=300, valid=False)


def _feature(facet: dict[str, Any]) -> dict[str, str]:
    features: list[dict[str, str]] = facet["features"]
    return features[0]


def _facet_text(text: str, facet: dict[str, Any]) -> str:
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


def test_it_builds_link_facets_from_utf8_byte_offsets() -> None:
    text = "詳しくは https://example.com/faq をご覧ください"
    [facet] = L.bluesky_facets(text)
    assert facet["index"] == {"byteStart": 13, "byteEnd": 36}
    assert _feature(facet) == {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/faq"}
    assert _facet_text(text, facet) == "https://example.com/faq"


def test_it_links_bare_domains_and_strips_trailing_punctuation() -> None:
    text = "see example.com. (support.example.jp) and foo.notatld"
    facets = L.bluesky_facets(text)
    assert [_feature(f)["uri"] for f in facets] == ["https://example.com", "https://support.example.jp"]
    assert [_facet_text(text, f) for f in facets] == ["example.com", "support.example.jp"]


def test_it_builds_mention_facets_with_the_resolved_did() -> None:
    text = "ありがとう @alice.bsky.social さん"
    dids = {"alice.bsky.social": "did:plc:alice"}
    [facet] = L.bluesky_facets(text, dids.get)
    assert _feature(facet) == {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}
    assert _facet_text(text, facet) == "@alice.bsky.social"


def test_it_leaves_out_mentions_it_cannot_resolve() -> None:
    text = "@alice.bsky.social @bob.bsky.social"
    assert L.bluesky_facets(text) == []
    assert L.bluesky_facets(text, lambda handle: None) == []


def test_it_builds_tag_facets_without_trailing_punctuation() -> None:
    text = "新作です #ポッキー！ #123 #" + "a" * 65
    [facet] = L.bluesky_facets(text)
    assert _feature(facet) == {"$type": "app.bsky.richtext.facet#tag", "tag": "ポッキー"}
    assert _facet_text(text, facet) == "#ポッキー"


def test_it_sorts_facets_by_position() -> None:
    text = "#a https://example.com @alice.test"
    facets = L.bluesky_facets(text, lambda handle: "did:plc:x")
    assert [_feature(f)["$type"].rsplit("#", 1)[1] for f in facets] == ["tag", "link", "mention"]


@given(st.text(max_size=60))
def test_it_builds_facets_on_character_boundaries(text: str) -> None:
    raw = text.encode("utf-8")
    for facet in L.bluesky_facets(text, lambda handle: "did:plc:x"):
        index = facet["index"]
        assert 0 <= index["byteStart"] < index["byteEnd"] <= len(raw)
        raw[index["byteStart"] : index["byteEnd"]].decode("utf-8")


# --- Mastodon -----------------------------------------------------------------------------------


def test_it_counts_every_url_as_23_on_mastodon() -> None:
    assert L.mastodon_length("https://example.com/" + "a" * 100).used == 23
    assert L.mastodon_length("http://a.co").used == 23
    assert L.mastodon_length("example.com").used == 11  # without a scheme Mastodon counts the text


def test_it_counts_only_the_local_part_of_remote_mentions() -> None:
    assert L.mastodon_countable_text("@alice@mastodon.social こんにちは") == "@alice こんにちは"
    assert L.mastodon_length("@alice@mastodon.social こんにちは").used == 12


def test_it_measures_mastodon_against_the_instance_limit() -> None:
    assert L.mastodon_length("あ" * 500) == L.LengthResult(used=500, limit=500, valid=True)
    assert L.mastodon_length("あ" * 501).valid is False
    assert L.mastodon_length("あ" * 501, limit=1000).valid is True


# --- dispatch -----------------------------------------------------------------------------------


def test_it_measures_by_platform_name() -> None:
    text = "ありがとうございます"
    assert L.measure(text, "x") == L.LengthResult(used=20, limit=280, valid=True)
    assert L.measure(text, "bluesky") == L.LengthResult(used=10, limit=300, valid=True)
    assert L.measure(text, "mastodon", limit=11) == L.LengthResult(used=10, limit=11, valid=True)


def test_it_rejects_an_unknown_platform() -> None:
    with pytest.raises(ValueError, match="threads"):
        L.measure("hi", "threads")
