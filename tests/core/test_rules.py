from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.rules import And, Node, Not, Operator, RuleSyntaxError, Term, parse_rule


def shape(node: Node) -> object:
    """The tree without positions and raw text, for comparing parses."""
    if isinstance(node, Term):
        return (node.kind, node.text)
    if isinstance(node, Operator):
        return (node.name, node.value)
    if isinstance(node, Not):
        return ("NOT", shape(node.operand))
    return (type(node).__name__.upper(), *(shape(o) for o in node.operands))


def parsed(query: str) -> object:
    return shape(parse_rule("r", query))


def error(query: str, rule_id: str = "r") -> RuleSyntaxError:
    with pytest.raises(RuleSyntaxError) as raised:
        parse_rule(rule_id, query)
    return raised.value


def test_it_ands_terms_side_by_side() -> None:
    assert parsed("ポッキー 新作") == ("AND", ("word", "ポッキー"), ("word", "新作"))


def test_it_binds_or_looser_than_and() -> None:
    assert parsed("a b OR c") == ("OR", ("AND", ("word", "a"), ("word", "b")), ("word", "c"))


def test_it_groups_with_parentheses() -> None:
    assert parsed("(ポッキー OR pocky) 新作") == (
        "AND",
        ("OR", ("word", "ポッキー"), ("word", "pocky")),
        ("word", "新作"),
    )


def test_it_excludes_with_minus_and_not() -> None:
    expected = ("AND", ("word", "ポッキー"), ("NOT", ("word", "ポッキーゲーム")))
    assert parsed("ポッキー -ポッキーゲーム") == parsed("ポッキー NOT ポッキーゲーム") == expected
    assert parsed("a -(b OR c)") == ("AND", ("word", "a"), ("NOT", ("OR", ("word", "b"), ("word", "c"))))


def test_it_reads_a_quoted_phrase_as_one_term() -> None:
    assert parsed('"Pocky  Chocolate" x') == ("AND", ("phrase", "pocky chocolate"), ("word", "x"))


def test_it_reads_hashtags_and_mentions() -> None:
    assert parsed("#ポッキーの日 OR ＠Pocky_JP") == ("OR", ("hashtag", "ポッキーノ日"), ("mention", "pocky_jp"))


def test_it_reads_operators() -> None:
    assert parsed("x lang:JA from:@Pocky_JP is:repost -is:reply has:link is:retweet") == (
        "AND",
        ("word", "x"),
        ("lang", "ja"),
        ("from", "pocky_jp"),
        ("is", "repost"),
        ("NOT", ("is", "reply")),
        ("has", "link"),
        ("is", "repost"),
    )


def test_it_takes_unknown_prefixes_as_words() -> None:
    assert parsed("Re:ゼロ") == ("word", "re:ゼロ")


def test_it_normalizes_terms_like_posts() -> None:
    assert parsed("ﾎﾟｯｷｰ") == parsed("ぽっきー") == ("word", "ポッキー")


def test_it_accepts_and_as_a_space() -> None:
    assert parsed("a AND b") == parsed("a b")


def test_it_keeps_lowercase_or_as_a_word() -> None:
    assert parsed("a or b") == ("AND", ("word", "a"), ("word", "or"), ("word", "b"))


def test_it_accepts_full_width_syntax() -> None:
    assert parsed("（ポッキー ＯＲ pocky） －ゲーム") == parsed("(ポッキー OR pocky) -ゲーム")


def test_it_keeps_positions() -> None:
    node = parse_rule("r", "a  -b")
    assert isinstance(node, And)
    negation = node.operands[1]
    assert isinstance(negation, Not) and negation.position == 3
    assert isinstance(negation.operand, Term) and negation.operand.position == 4


def test_it_names_rule_position_and_what_was_expected() -> None:
    raised = error("(pocky OR ぽっきー", rule_id="pocky")
    assert str(raised) == "rule \"pocky\": position 14: expected ')' to close '(' opened at position 0"
    assert (raised.rule_id, raised.position, raised.message) == ("pocky", 14, str(raised))
    assert raised.expected == "')' to close '(' opened at position 0"
    assert isinstance(raised, ValueError)


@pytest.mark.parametrize(
    ("query", "position", "expected"),
    [
        ("", 0, "a term"),
        ("   ", 3, "a term"),
        ("OR a", 0, "a term before 'OR'"),
        ("a OR", 4, "a term after 'OR'"),
        ("a OR OR b", 5, "a term after 'OR'"),
        ("a ()", 3, "a term inside the '(' opened at position 2"),
        ("a)", 1, "a term, 'OR' or the end of the rule (this ')' closes no '(')"),
        ("a -", 3, "a term after '-'"),
        ("a - b", 3, "a term after '-'"),
        ("a NOT", 5, "a term after 'NOT'"),
        ('a "b', 4, "'\"' to close the phrase opened at position 2"),
        ('a ""', 3, "text inside the quotes"),
        ("#", 1, "letters, digits or '_' after '#' (a hashtag)"),
        ("#ポッキー!", 5, "letters, digits or '_' after '#' (a hashtag)"),
        ("@ぽっきー", 1, "an account handle after '@' (letters, digits, '_')"),
        ("a lang:日本", 7, "a language code such as 'ja' or 'en' after 'lang:'"),
        ("a from:", 7, "an account handle after 'from:'"),
        ("a is:quote", 5, "'repost' or 'reply' after 'is:'"),
        ("a has:image", 6, "'link' after 'has:'"),
        ("AND a", 0, "a term before 'AND'"),
    ],
)
def test_it_explains_syntax_errors(query: str, position: int, expected: str) -> None:
    raised = error(query)
    assert (raised.position, raised.expected) == (position, expected)


def test_it_says_what_it_found() -> None:
    assert (
        str(error("a )"))
        == "rule \"r\": position 2: expected a term, 'OR' or the end of the rule (this ')' closes no '('), found ')'"
    )


@pytest.mark.parametrize("query", ["-ポッキーゲーム", "lang:ja is:reply", "-a -b has:link", "NOT (a OR b)"])
def test_it_requires_a_term_that_is_not_excluded(query: str) -> None:
    raised = error(query)
    assert raised.position == 0
    assert raised.expected.startswith("at least one term to look for that is not excluded")


def test_it_limits_nesting() -> None:
    assert parsed("(" * 50 + "a" + ")" * 50) == ("word", "a")
    raised = error("(" * 51 + "a" + ")" * 51)
    assert (raised.position, raised.expected) == (50, "at most 50 levels of groups and exclusions")
    assert error("-" * 60 + "a").position == 50


def test_it_counts_a_doubly_excluded_term_as_looked_for() -> None:
    assert parsed("NOT -a") == ("NOT", ("NOT", ("word", "a")))


# Property tests: random trees, written out, parse back to the same tree.

words = st.sampled_from(["ポッキー", "pocky", "新作", "ana", "ana便", "チョコ", "is", "x1"])
leaves = st.one_of(
    words.map(lambda w: ("word", w)),
    st.lists(words, min_size=2, max_size=3).map(lambda ws: ("phrase", " ".join(ws))),
    st.sampled_from(["ポッキー", "pocky_day", "新作"]).map(lambda w: ("hashtag", w)),
    st.sampled_from(["pocky_jp", "glico.bsky.social"]).map(lambda w: ("mention", w)),
    st.sampled_from([("lang", "ja"), ("from", "pocky_jp"), ("is", "repost"), ("is", "reply"), ("has", "link")]),
)
trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        children.map(lambda c: ("NOT", c)),
        st.lists(children, min_size=2, max_size=3).map(lambda cs: ("AND", *cs)),
        st.lists(children, min_size=2, max_size=3).map(lambda cs: ("OR", *cs)),
    ),
    max_leaves=8,
)


def write(tree: tuple[object, ...]) -> str:
    kind = tree[0]
    if kind in ("AND", "OR"):
        return "(" + f" {'OR' if kind == 'OR' else ''} ".join(write(t) for t in tree[1:]).replace("  ", " ") + ")"  # type: ignore[arg-type]
    if kind == "NOT":
        return "-" + write(tree[1])  # type: ignore[arg-type]
    if kind == "phrase":
        return f'"{tree[1]}"'
    prefix = {"word": "", "hashtag": "#", "mention": "@"}.get(str(kind), f"{kind}:")
    return f"{prefix}{tree[1]}"


def expected_shape(tree: tuple[object, ...]) -> object:
    kind = tree[0]
    if kind in ("AND", "OR", "NOT"):
        return (kind, *(expected_shape(t) for t in tree[1:]))  # type: ignore[arg-type]
    if kind in ("word", "phrase", "hashtag"):
        return (kind, parsed_text(str(tree[1])))
    return tree


def parsed_text(text: str) -> str:
    from kizuna.core.normalize import normalize

    return normalize(text)


def has_positive_term(tree: tuple[object, ...], negated: bool = False) -> bool:
    kind = tree[0]
    if kind in ("AND", "OR"):
        return any(has_positive_term(t, negated) for t in tree[1:])  # type: ignore[arg-type]
    if kind == "NOT":
        return has_positive_term(tree[1], not negated)  # type: ignore[arg-type]
    return kind in ("word", "phrase", "hashtag", "mention") and not negated


@given(trees)
def test_it_parses_back_what_was_written(tree: tuple[object, ...]) -> None:
    query = write(tree)
    if has_positive_term(tree):
        assert parsed(query) == expected_shape(tree)
    else:
        with pytest.raises(RuleSyntaxError):
            parse_rule("r", query)


@given(st.text(alphabet=st.sampled_from('ab ポ()"#@-:ORNTAlangis（）＂') | st.characters(), max_size=30))
def test_it_parses_or_explains_any_text(query: str) -> None:
    try:
        parse_rule("r", query)
    except RuleSyntaxError as raised:
        assert 0 <= raised.position <= len(query)
        assert raised.message.startswith(f'rule "r": position {raised.position}: expected ')
