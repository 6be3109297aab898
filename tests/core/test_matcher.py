from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.matcher import Matcher, MatchInput, compile_rules
from kizuna.core.normalize import normalize
from kizuna.core.rules import And, Node, Not, Operator, Or, RuleSpec, RuleSyntaxError, Term, parse_rule


def matcher(*queries: str) -> Matcher:
    return compile_rules(RuleSpec(f"r{i}", q) for i, q in enumerate(queries))


def hits(query: str, text: str, **attributes: object) -> bool:
    return matcher(query).match(MatchInput(text, **attributes)) == ["r0"]  # type: ignore[arg-type]


def test_it_ands_terms_anywhere_in_the_post() -> None:
    assert hits("ポッキー 新作", "新作のポッキー買った")
    assert not hits("ポッキー 新作", "ポッキー買った")


def test_it_matches_either_side_of_or() -> None:
    assert hits("(ポッキー OR pocky) 新作", "新作 pocky")
    assert not hits("(ポッキー OR pocky) 新作", "プリッツ新作")


def test_it_excludes_a_post_with_the_excluded_term_anywhere() -> None:
    rule = "(ポッキー OR pocky) -ポッキーゲーム"
    assert hits(rule, "ポッキー美味しい")
    assert not hits(rule, "ポッキー食べながらポッキーゲームした")
    assert not hits("pocky NOT ゲーム", "ゲーム pocky")


def test_it_folds_width_case_kana_and_long_vowels_on_both_sides() -> None:
    for text in ("ﾎﾟｯｷｰ", "ぽっきー", "ポッキ〜", "ポッキ～", "ポッキーーー"):
        assert hits("ポッキー", text), text
    assert hits("Pocky", "ＰＯＣＫＹ")


def test_it_matches_latin_terms_on_word_boundaries() -> None:
    assert not hits("ana", "banana")
    assert not hits("ana", "anastasia")
    assert hits("ana", "ANA便が遅れた")
    assert hits("ana", "乗るのはana.")
    assert hits("iphone15", "iPhone15ケース")
    assert not hits("15", "iphone15")
    assert hits("ana便", "全日空ana便")


def test_it_matches_japanese_terms_inside_words() -> None:
    assert hits("ポッキー", "ポッキーの日")
    assert hits("ポッキー", "極細ポッキー")


def test_it_matches_a_phrase_with_its_spaces() -> None:
    assert hits('"pocky chocolate"', "I love Pocky   Chocolate!")
    assert not hits('"pocky chocolate"', "pocky and chocolate")


def test_it_matches_a_hashtag_only_as_a_hashtag() -> None:
    assert hits("#ポッキー", "今日は #ポッキー")
    assert hits("#ポッキー", "＃ぽっきー 最高")
    assert not hits("#ポッキー", "ポッキー最高")
    assert not hits("#ポッキー", "#ポッキーの日")
    assert not hits("#ポッキー", "a#ポッキー")
    assert hits("ポッキー", "#ポッキーの日")


def test_it_matches_a_mention_only_as_a_mention() -> None:
    assert hits("@pocky_jp", "@Pocky_JP ありがとう")
    assert hits("@pocky_jp", "こんにちは@pocky_jp.")
    assert not hits("@pocky_jp", "@pocky_jp2 ありがとう")
    assert not hits("@pocky_jp", "@pocky_jp.bsky.social")
    assert not hits("@pocky_jp", "mail@pocky_jp")
    assert not hits("@pocky_jp", "pocky_jp")
    assert hits("@glico.bsky.social", "@glico.bsky.social さん")


def test_it_tests_operators() -> None:
    assert hits("pocky lang:ja", "pocky", lang="ja-JP")
    assert not hits("pocky lang:ja", "pocky", lang="en")
    assert not hits("pocky lang:ja", "pocky")
    assert hits("pocky from:pocky_jp", "pocky", author="@Pocky_JP")
    assert not hits("pocky -from:pocky_jp", "pocky", author="pocky_jp")
    assert hits("pocky is:repost", "pocky", is_repost=True)
    assert hits("pocky -is:repost", "pocky")
    assert hits("pocky is:reply", "pocky", is_reply=True)
    assert not hits("pocky is:reply", "pocky", is_repost=True)


def test_it_finds_links() -> None:
    assert hits("pocky has:link", "pocky HTTPS://t.co/abc")
    assert hits("pocky has:link", "pocky http://x.jp")
    assert not hits("pocky has:link", "pocky https:// nothing")
    assert not hits("pocky has:link", "pocky http")
    assert hits("pocky -has:link", "pocky")


def test_it_evaluates_rules_that_can_hold_without_their_terms_for_every_post() -> None:
    rules = matcher("pocky OR lang:en", "pocky OR -ゲーム", "pocky (lang:en OR -is:reply)")
    assert rules.match(MatchInput("hello", lang="en")) == ["r0", "r1"]
    assert rules.match(MatchInput("ゲーム", lang="ja")) == []
    assert rules.match(MatchInput("pocky", is_reply=True)) == ["r0", "r1"]


def test_it_rejects_a_rule_without_a_term_to_look_for() -> None:
    with pytest.raises(RuleSyntaxError, match="at least one term to look for"):
        matcher("pocky", "lang:ja -is:repost")


def test_it_reports_the_first_bad_rule() -> None:
    with pytest.raises(RuleSyntaxError) as raised:
        compile_rules([RuleSpec("ok", "a"), RuleSpec("bad", "(a"), RuleSpec("worse", ")")])
    assert raised.value.rule_id == "bad"


def test_it_rejects_duplicate_rule_ids() -> None:
    with pytest.raises(ValueError, match='rule "a": the id is used by another rule'):
        compile_rules([RuleSpec("a", "x"), RuleSpec("a", "y")])


def test_it_returns_sorted_ids_of_every_matching_rule() -> None:
    rules = compile_rules(
        [RuleSpec("b", "ポッキー"), RuleSpec("a", "pocky OR ポッキー", brand="glico"), RuleSpec("c", "x")]
    )
    assert rules.rule_ids == ("b", "a", "c")
    assert rules.match(MatchInput("ポッキー")) == ["a", "b"]


def test_it_matches_many_posts_in_order() -> None:
    rules = matcher("ポッキー", "pocky is:reply")
    posts = [MatchInput("pocky", is_reply=True), MatchInput("なし"), MatchInput("ぽっきー\x00pocky\n")]
    assert rules.match_many(posts) == [["r1"], [], ["r0"]]
    assert rules.match_many([]) == []


def test_it_keeps_posts_of_a_batch_apart() -> None:
    rules = matcher('"a b"', "ana")
    assert rules.match_many([MatchInput("x a"), MatchInput("b ana")]) == [[], ["r1"]]
    assert rules.match_many([MatchInput("ban"), MatchInput("ana")]) == [[], ["r1"]]


def test_it_matches_nothing_without_rules() -> None:
    assert compile_rules([]).match(MatchInput("pocky")) == []


def test_it_handles_lone_surrogates() -> None:
    assert hits("pocky", "\ud83d pocky \udc00")


# Property test: the matcher agrees with a plain evaluation of each rule over normalize(text).

WORDS = [
    "ポッキー",
    "ぽっきー",
    "pocky",
    "Pocky",
    "ana",
    "banana",
    "ANA便",
    "新作",
    "ゲーム",
    "ポッキーゲーム",
    "ー",
    "a",
]
RULE_WORDS = ["ポッキー", "pocky", "ana", "ana便", "新作", "ゲーム", "ポッキーゲーム", "a", '"pocky ana"']
LATIN = "[0-9a-z\u00c0-\u024f\u1e00-\u1eff]"


def occurs(term: Term, text: str) -> bool:
    if term.kind == "hashtag":
        pattern = rf"(?<![\w&])#{re.escape(term.text)}(?![\w・])"
    elif term.kind == "mention":
        pattern = rf"(?<![a-z0-9_!#$%&*@])@{re.escape(term.text)}(?![a-z0-9_]|[.\-@][a-z0-9_])"
    else:
        left = f"(?<!{LATIN})" if re.match(LATIN, term.text[0]) else ""
        right = f"(?!{LATIN})" if re.match(LATIN, term.text[-1]) else ""
        pattern = left + re.escape(term.text) + right
    return re.search(pattern, text) is not None


def holds(node: Node, post: MatchInput) -> bool:
    if isinstance(node, Term):
        return occurs(node, normalize(post.text))
    if isinstance(node, Operator):
        if node.name == "lang":
            return post.lang is not None and post.lang.lower().split("-")[0] == node.value
        if node.name == "from":
            return post.author is not None and normalize(post.author).lstrip("@") == node.value
        if node.name == "has":
            return re.search(r"(?<![a-z0-9])https?://\S", normalize(post.text)) is not None
        return post.is_repost if node.value == "repost" else post.is_reply
    if isinstance(node, Not):
        return not holds(node.operand, post)
    if isinstance(node, And):
        return all(holds(o, post) for o in node.operands)
    assert isinstance(node, Or)
    return any(holds(o, post) for o in node.operands)


leaf = st.one_of(
    st.sampled_from(RULE_WORDS),
    st.sampled_from(["#ポッキー", "#pocky", "@pocky_jp"]),
    st.sampled_from(["lang:ja", "is:repost", "is:reply", "has:link", "from:pocky_jp"]),
)
queries = st.recursive(
    leaf,
    lambda inner: st.one_of(
        inner.map(lambda q: f"-{q}" if not q.startswith("-") else q),
        st.lists(inner, min_size=2, max_size=3).map(lambda qs: "(" + " ".join(qs) + ")"),
        st.lists(inner, min_size=2, max_size=3).map(lambda qs: "(" + " OR ".join(qs) + ")"),
    ),
    max_leaves=6,
)
fragments = st.sampled_from(
    [*WORDS, " ", "#", "@pocky_jp", "#ポッキー", "https://t.co/x", "\n", "の", "b", "\x00", "＃"]
)
posts = st.builds(
    MatchInput,
    text=st.lists(fragments, max_size=8).map("".join),
    lang=st.sampled_from([None, "ja", "en", "ja-JP"]),
    author=st.sampled_from([None, "pocky_jp", "@Pocky_JP", "other"]),
    is_repost=st.booleans(),
    is_reply=st.booleans(),
)


def valid(query: str) -> bool:
    try:
        parse_rule("r", query)
    except RuleSyntaxError:
        return False
    return True


@settings(max_examples=300)
@given(st.lists(queries.filter(valid), min_size=1, max_size=5), st.lists(posts, max_size=6))
def test_it_agrees_with_evaluating_each_rule_on_its_own(rule_queries: list[str], batch: list[MatchInput]) -> None:
    rules = [RuleSpec(f"r{i}", q) for i, q in enumerate(rule_queries)]
    expected = [sorted(r.id for r in rules if holds(parse_rule(r.id, r.query), post)) for post in batch]
    compiled = compile_rules(rules)
    assert compiled.match_many(batch) == expected
    assert [compiled.match(post) for post in batch] == expected
