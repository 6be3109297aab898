"""X API v2 parser, driven by the recorded responses in ../shared/fixtures/x."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.posts import MAX_TEXT_CHARS, IncomingPost, PayloadError
from kizuna.sources.x.parser import parse_x_response, parse_x_stream_line
from tests.sources.mutation import paths, replace_at

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
X = FIXTURES / "x"
MISSING = pytest.mark.skip(reason=f"recorded payloads not found at {X}")
# Posts each recorded response holds once its authors are expanded; all else in x/ has none.
POSTS_WITH_AUTHORS = {
    "x-docs-examples/apis/searches/search_tweets_query.json": 4,
    "x-docs-examples/apis/tweet/tweet_quote_tweets_resp.json": 15,
    "x-docs-examples/apis/tweet/tweets_resp.json": 2,
}


def _recorded() -> list[Any]:
    """Every response body under x/: the docs examples, and each interaction of a cassette."""
    if not X.is_dir():
        return [pytest.param("missing", {}, marks=MISSING)]
    params = []
    for path in sorted(X.rglob("*.json")):
        name = path.relative_to(X).as_posix()
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, list):  # a decoded VCR cassette
            params += [pytest.param(name, it["response"]["body"], id=f"{name}[{i}]") for i, it in enumerate(doc)]
        else:
            params.append(pytest.param(name, doc, id=name))
    return params


RECORDED = _recorded()


def _load(name: str) -> Any:
    path = X / name
    if not path.exists():
        pytest.skip(f"recorded payload {path} not found")
    return json.loads(path.read_text(encoding="utf-8"))


def _posts(results: list[IncomingPost | PayloadError]) -> list[IncomingPost]:
    return [r for r in results if isinstance(r, IncomingPost)]


def _errors(results: list[IncomingPost | PayloadError]) -> list[PayloadError]:
    return [r for r in results if isinstance(r, PayloadError)]


def _with_users(doc: dict[str, Any]) -> dict[str, Any]:
    """Add the author expansion a response was recorded without (usernames made up from ids)."""
    doc = copy.deepcopy(doc)
    data = doc["data"] if isinstance(doc["data"], list) else [doc["data"]]
    ids = {t["author_id"] for t in data}
    doc["includes"] = {"users": [{"id": i, "username": f"user{i}", "name": f"User {i}"} for i in sorted(ids)]}
    return doc


@pytest.mark.parametrize(("name", "body"), RECORDED)
def test_it_turns_every_recorded_response_into_posts_or_reasons(name: str, body: Any) -> None:
    results = parse_x_response(body)
    assert all(isinstance(r, IncomingPost | PayloadError) for r in results)
    assert len(_posts(results)) == POSTS_WITH_AUTHORS.get(name, 0)
    for post in _posts(results):
        assert post.platform == "x"
        assert post.url == f"https://x.com/{post.author_handle}/status/{post.platform_post_id}"
        assert post.created_at.tzinfo is not None
        assert post.text and post.thread_id
        assert parse_x_response(post.raw) == [post]  # the raw is a one-post response of its own
    for error in _errors(results):
        assert str(error)


def test_it_reads_every_recorded_post_with_an_author() -> None:
    total = sum(len(_posts(parse_x_response(_load(name)))) for name in POSTS_WITH_AUTHORS)
    assert total == 21


def test_it_maps_a_reply_with_its_author_expansion() -> None:
    post = _posts(parse_x_response(_load("x-docs-examples/apis/searches/search_tweets_query.json")))[0]
    assert post.platform_post_id == "1276035977375477760"
    assert post.author_handle == "happycamper"
    assert post.author_display_name == "Emily Waligoske 🏕"
    assert post.created_at == datetime(2020, 6, 25, 6, 14, 19, tzinfo=UTC)
    assert post.lang == "en"
    assert post.in_reply_to == "1275653067283759104"
    assert post.thread_id == "1275653067283759104"  # no conversation_id asked for: the parent stands in
    assert not post.is_repost
    assert post.raw["includes"]["users"] == [u for u in post.raw["includes"]["users"] if u["id"] == "63046977"]
    assert [t["id"] for t in post.raw["includes"]["tweets"]] == ["1275653067283759104"]


def test_it_takes_the_thread_from_conversation_id() -> None:
    posts = _posts(parse_x_response(_load("x-docs-examples/apis/tweet/tweet_quote_tweets_resp.json")))
    assert all(p.thread_id == p.raw["data"]["conversation_id"] for p in posts)
    assert any(p.thread_id != p.platform_post_id for p in posts)


def test_it_marks_retweets_as_reposts_and_unescapes_text() -> None:
    doc = _with_users(_load("x-docs-examples/apis/searches/search_tweets_for_nyc.json"))
    posts = _posts(parse_x_response(doc))
    assert len(posts) == 10
    assert posts[0].is_repost and posts[0].text.startswith("RT @skipbolden:")
    assert not posts[1].is_repost and posts[1].in_reply_to == "1275781448855891968"
    assert "kids with allergies (not a worry in this setting) & kids" in posts[2].text
    assert "&amp;" not in posts[2].text


def test_it_explains_that_the_author_expansion_is_missing() -> None:
    for name in (
        "tweepy/test_client_search_recent_tweets.json",
        "x-docs-examples/apis/searches/search_tweets_for_nyc.json",
    ):
        doc = _load(name)
        body = doc[0]["response"]["body"] if isinstance(doc, list) else doc
        errors = parse_x_response(body)
        assert len(errors) == 10 and all(isinstance(e, PayloadError) for e in errors)
        assert all("expansions=author_id" in str(e) for e in errors)


def test_it_derives_the_time_from_the_post_id_when_created_at_is_missing() -> None:
    for name in POSTS_WITH_AUTHORS:
        for post in _posts(parse_x_response(_load(name))):
            doc = copy.deepcopy(post.raw)
            del doc["data"]["created_at"]
            (derived,) = parse_x_response(doc)
            assert isinstance(derived, IncomingPost)
            assert timedelta(0) <= derived.created_at - post.created_at < timedelta(seconds=1)


def test_it_refuses_an_old_id_without_created_at() -> None:
    doc = {
        "data": {"id": "20", "text": "just setting up my twttr", "author_id": "12"},
        "includes": {"users": [{"id": "12", "username": "jack"}]},
    }
    (error,) = parse_x_response(doc)
    assert isinstance(error, PayloadError) and "created_at" in str(error)


def test_it_prefers_the_long_text_of_a_note_tweet() -> None:
    doc = copy.deepcopy(_load("x-docs-examples/apis/tweet/tweets_resp.json"))
    doc["data"][0]["note_tweet"] = {"text": "長い投稿 " * 100}
    post = _posts(parse_x_response(doc))[0]
    assert post.text == "長い投稿 " * 100


def test_it_reads_author_followers_from_public_metrics() -> None:
    doc = copy.deepcopy(_load("x-docs-examples/apis/tweet/tweets_resp.json"))
    user = _load("x-docs-examples/models/user.json")
    doc["includes"]["users"][0] = user
    post = _posts(parse_x_response(doc))[0]
    assert post.author_followers == user["public_metrics"]["followers_count"] > 0


def test_it_returns_api_errors_as_reasons() -> None:
    (error,) = parse_x_response(_load("x-docs-examples/streams/delete_error.json"))
    assert isinstance(error, PayloadError)
    assert "JSON doesn't match expected schema" in str(error) and "Invalid Request" in str(error)


def test_it_keeps_the_posts_of_a_partly_failed_lookup() -> None:
    doc = copy.deepcopy(_load("x-docs-examples/apis/tweet/tweets_resp.json"))
    doc["errors"] = [
        {
            "value": "1",
            "detail": "Could not find tweet with ids: [1].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "ids",
            "resource_id": "1",
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
    ]
    results = parse_x_response(doc)
    assert len(_posts(results)) == 2
    assert [str(e) for e in _errors(results)] == [
        "X API error: Not Found Error: Could not find tweet with ids: [1]. (tweet 1; parameter ids)"
    ]


def test_it_returns_nothing_for_an_empty_page() -> None:
    assert parse_x_response({"meta": {"result_count": 0}}) == []
    assert parse_x_response(_load("x-docs-examples/streams/delete_rules.json")) == []


def test_it_says_when_data_holds_something_other_than_posts() -> None:
    for name in ("x-docs-examples/apis/user/user_resp.json", "x-docs-examples/streams/get_rules.json"):
        errors = parse_x_response(_load(name))
        assert errors and all("not a post" in str(e) for e in errors)


def _stream_line() -> dict[str, Any]:
    """A filtered-stream line as documented, built from the docs' tweet, expansions and rule models."""
    models = X / "x-docs-examples" / "models"
    if not models.is_dir():
        pytest.skip(f"recorded payloads not found at {models}")
    rule = json.loads((models / "rule.json").read_text(encoding="utf-8"))
    return {
        "data": json.loads((models / "tweet.json").read_text(encoding="utf-8")),
        "includes": json.loads((models / "expansions.json").read_text(encoding="utf-8")),
        "matching_rules": [{"id": rule["id"], "tag": rule["tag"]}],
    }


def test_it_parses_a_filtered_stream_line() -> None:
    line = _stream_line()
    post = parse_x_stream_line(json.dumps(line).encode() + b"\r\n")
    assert post is not None
    assert post.platform_post_id == "1212092628029698048"
    assert post.author_handle == "TwitterDev" and post.author_display_name == "Twitter Dev"
    assert post.in_reply_to == "1212092627178287104"
    assert post.created_at == datetime(2019, 12, 31, 19, 26, 16, tzinfo=UTC)
    assert post.raw == line and post.raw["matching_rules"][0]["tag"] == "puppies with media"


@pytest.mark.parametrize("line", [b"", b"\r\n", b"\n", b"   \r\n"])
def test_it_skips_keep_alive_lines(line: bytes) -> None:
    assert parse_x_stream_line(line) is None


def test_it_raises_the_errors_of_a_stream_line() -> None:
    line = {
        "errors": [
            {
                "title": "operational-disconnect",
                "disconnect_type": "UpstreamOperationalDisconnect",
                "detail": "This stream has been disconnected upstream for operational reasons.",
                "type": "https://api.twitter.com/2/problems/operational-disconnect",
            }
        ]
    }
    with pytest.raises(PayloadError, match="operational-disconnect: This stream has been disconnected"):
        parse_x_stream_line(json.dumps(line).encode())


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{", "not JSON"),
        (b'{"data": {"id": "1", "text": "\xff"}}', "not UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"data": 1}', '"data" must be a post object'),
        (b'{"matching_rules": []}', 'no "data"'),
        (b"[" * 100_000, "not JSON"),
        (b"1" * 5000, "not JSON"),
        (b'{"data": {"id": "1", "text": "x\\u0000"}}', "NUL"),
    ],
)
def test_it_explains_a_bad_stream_line(line: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_x_stream_line(line)


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    *parents, last = path.split(".")
    target: Any = doc
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return doc


_DELETE = object()
HOSTILE = [
    ("data.0.text", _DELETE, 'has no "text"'),
    ("data.0.text", 12, '"data[0].text" must be a string'),
    ("data.0.text", "あ" * (MAX_TEXT_CHARS + 1), "more than the 20000"),
    ("data.0.text", "ok\x00", '"data[0].text" contains a NUL'),
    ("data.0.text", "\ud83d broken emoji", '"data[0].text" contains a lone surrogate'),
    ("data.0.source", float("nan"), '"data[0].source" is nan'),
    ("data.0.id", "12ab", '"data[0].id" must be a numeric id'),
    ("data.0.id", None, '"data[0].id" must be a numeric id'),
    ("data.0.author_id", ["63046977"], '"data[0].author_id" must be a numeric id'),
    ("data.0.created_at", "yesterday", '"data[0].created_at" is not an ISO 8601 time'),
    ("data.0.created_at", 1593065659, '"data[0].created_at" must be an ISO 8601 time'),
    ("data.0.lang", 5, '"data[0].lang" must be a string'),
    ("data.0.referenced_tweets", "replied_to", '"data[0].referenced_tweets" must be a list'),
    ("data.0.referenced_tweets.0", None, '"data[0].referenced_tweets[0]" must be an object'),
    ("data.0.referenced_tweets.0.id", "../1", '"data[0].referenced_tweets[0].id" must be a numeric id'),
    ("data.0.conversation_id", True, '"data[0].conversation_id" must be a numeric id'),
    ("data.0.note_tweet", "long", '"data[0].note_tweet" must be an object'),
    ("data.0", "a post", '"data[0]" must be a post object'),
    ("includes.users.0.username", "../../evil", '"includes.users[0].username" must be an X username'),
    ("includes.users.0.name", 7, '"includes.users[0].name" must be a string'),
    ("includes.users.0.public_metrics", {"followers_count": "many"}, 'followers_count" must be an integer'),
    ("includes.users.0.description", "nul\x00", '"includes.users[id=63046977].description" contains a NUL'),
    ("includes.users", {"id": "1"}, '"includes.users" must be a list'),
    ("includes", [], '"includes" must be an object'),
    ("data", "posts", '"data" must be a post object or a list of posts'),
    ("errors", "boom", '"errors" must be a list'),
]


@pytest.mark.parametrize(("path", "value", "reason"), HOSTILE, ids=[f"{p}={r}" for p, _, r in HOSTILE])
def test_it_names_the_field_of_a_hostile_variant(path: str, value: Any, reason: str) -> None:
    doc = _load("x-docs-examples/apis/searches/search_tweets_query.json")
    results = parse_x_response(_set(doc, path, value))
    assert any(isinstance(r, PayloadError) and reason in str(r) for r in results), results
    assert all(isinstance(r, IncomingPost | PayloadError) for r in results)


def test_it_refuses_a_response_that_is_not_an_object() -> None:
    docs: list[object] = [None, [], "data", 3]
    for doc in docs:
        (error,) = parse_x_response(doc)
        assert isinstance(error, PayloadError) and "expected an X API response object" in str(error)


def test_it_refuses_a_payload_nested_too_deep() -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    doc = _set(_load("x-docs-examples/apis/tweet/tweets_resp.json"), "data.0.entities", deep)
    results = parse_x_response(doc)
    assert "nested more than" in str(results[0])


KEYS = st.sampled_from(
    ["data", "includes", "users", "errors", "meta", "id", "text", "author_id", "username", "name", "created_at",
     "referenced_tweets", "type", "replied_to", "retweeted", "conversation_id", "lang", "note_tweet",
     "public_metrics", "followers_count", "title", "detail", "matching_rules"]
) | st.text(max_size=6)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(["1276035977375477760", "63046977", "2020-06-25T06:14:19.000Z", "happycamper", "replied_to"])
)
JSONISH = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5), max_leaves=25
)


def _check(results: list[IncomingPost | PayloadError]) -> None:
    assert isinstance(results, list)
    assert all(isinstance(r, IncomingPost | PayloadError) for r in results)


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(KEYS, JSONISH, max_size=6))
def test_it_never_raises_on_any_json_object(doc: dict[str, Any]) -> None:
    _check(parse_x_response(doc))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_it_never_raises_on_a_recorded_response_with_one_field_replaced(data: st.DataObject) -> None:
    doc = _load("x-docs-examples/apis/searches/search_tweets_query.json")
    path = data.draw(st.sampled_from(paths(doc)))
    _check(parse_x_response(replace_at(doc, path, data.draw(JSONISH))))


@settings(max_examples=300, deadline=None)
@given(line=st.binary() | JSONISH.map(lambda v: json.dumps({"data": v}).encode()))
def test_it_never_raises_on_any_stream_line(line: bytes) -> None:
    try:
        result = parse_x_stream_line(line)
    except PayloadError:
        return
    assert result is None or isinstance(result, IncomingPost)
