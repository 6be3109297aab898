"""Bluesky parser, driven by the production Jetstream capture and the AT Protocol examples."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.posts import MAX_TEXT_CHARS, IncomingPost, PayloadError
from kizuna.sources.bluesky.parser import parse_jetstream_event, parse_post_view
from tests.sources.mutation import paths, replace_at

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
BSKY = FIXTURES / "bluesky"
JETSTREAM = BSKY / "jetstream"
MISSING = pytest.mark.skip(reason=f"recorded payloads not found at {BSKY}")
POST = "app.bsky.feed.post"


def _lines(name: str) -> list[Any]:
    path = JETSTREAM / name
    if not path.exists():
        return [pytest.param({}, marks=MISSING, id="missing")]
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [pytest.param(e, id=f"{name}:{i + 1}:{_label(e)}") for i, e in enumerate(events)]


def _label(event: dict[str, Any]) -> str:
    commit = event.get("commit", {})
    return f"{event['kind']}:{commit.get('operation', '')}:{commit.get('collection', '')}"


def _events(name: str) -> list[dict[str, Any]]:
    path = JETSTREAM / name
    if not path.exists():
        pytest.skip(f"recorded payload {path} not found")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _load(relative: str) -> Any:
    path = BSKY / relative
    if not path.exists():
        pytest.skip(f"recorded payload {path} not found")
    return json.loads(path.read_text(encoding="utf-8"))


def _is_post_create(event: dict[str, Any]) -> bool:
    return _label(event) == f"commit:create:{POST}"


def _by_rkey(rkey: str) -> dict[str, Any]:
    return next(e for e in _events("posts_only.jsonl") if e["commit"]["rkey"] == rkey)


DOCS_DID = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"


def _event_for(record: dict[str, Any], did: str = DOCS_DID, rkey: str = "3k4duaz5vfs2b") -> dict[str, Any]:
    """Wrap a bare post record as Jetstream would deliver its creation."""
    commit = {"rev": "3k4duaz5vfs2c", "operation": "create", "collection": POST, "rkey": rkey, "record": record}
    return {"did": did, "time_us": 1_691_387_472_156_888, "kind": "commit", "commit": {**commit, "cid": "bafyrei"}}


@pytest.mark.parametrize("event", _lines("expected_v1.jsonl") + _lines("posts_only.jsonl"))
def test_it_reads_every_production_event_as_a_post_or_not_a_post(event: dict[str, Any]) -> None:
    post = parse_jetstream_event(event)
    if not _is_post_create(event):
        assert post is None
        return
    assert post is not None
    did, rkey = event["did"], event["commit"]["rkey"]
    assert post.platform == "bluesky"
    assert post.platform_post_id == f"at://{did}/{POST}/{rkey}"
    assert post.author_handle == did
    assert post.url == f"https://bsky.app/profile/{did}/post/{rkey}"
    assert post.text == event["commit"]["record"]["text"]
    assert post.created_at.tzinfo is not None
    assert post.raw is event and post.raw["commit"]["cid"].startswith("bafyrei")
    langs = event["commit"]["record"].get("langs") or [""]
    assert post.lang == langs[0]
    reply = event["commit"]["record"].get("reply")
    assert post.in_reply_to == (reply["parent"]["uri"] if reply else "")
    assert post.thread_id == (reply["root"]["uri"] if reply else post.platform_post_id)


def test_it_finds_the_posts_the_manifest_promises() -> None:
    events = _events("expected_v1.jsonl")
    manifest = json.loads((JETSTREAM / "manifest.json").read_text(encoding="utf-8"))
    kinds = Counter(e["kind"] for e in events)
    ops = Counter(e["commit"]["operation"] for e in events if e["kind"] == "commit")
    assert len(events) == manifest["v1_events"] == 152
    assert (kinds["identity"], kinds["account"]) == (manifest["identity"], manifest["account"])
    assert (ops["create"], ops["update"], ops["delete"]) == (
        manifest["creates"],
        manifest["updates"],
        manifest["deletes"],
    )
    assert {e["did"] for e in events if e["kind"] == "commit"} == set(manifest["commit_dids"])
    posts = [p for p in map(parse_jetstream_event, events) if p is not None]
    assert len(posts) == 17
    assert sum(1 for p in posts if p.in_reply_to) == 8
    assert len({p.platform_post_id for p in posts}) == 17


def test_it_agrees_with_the_posts_only_filter() -> None:
    only = _events("posts_only.jsonl")
    assert only == [e for e in _events("expected_v1.jsonl") if e.get("commit", {}).get("collection") == POST]
    results = [parse_jetstream_event(e) for e in only]
    assert len(only) == 18 and sum(r is not None for r in results) == 17  # the 18th is a delete


def test_it_maps_a_reply_whose_parent_is_not_the_root() -> None:
    post = parse_jetstream_event(_by_rkey("3mptbyproxc2q"))
    assert post is not None
    assert post.in_reply_to == "at://did:plc:ippiobxpsddnkzd6ms2dbpcy/app.bsky.feed.post/3mptbvznwf22c"
    assert post.thread_id == "at://did:plc:ajg5c7huhiibhwandhdscpdq/app.bsky.feed.post/3mptb7zj4lc2q"
    assert post.text == ""  # a GIF reply: an empty text is still a post


def test_it_reads_a_japanese_post() -> None:
    post = parse_jetstream_event(_by_rkey("3mptbyqhi7s2f"))
    assert post is not None
    assert post.lang == "ja" and post.text.startswith("待って天幕のジャードゥーガル") and post.text.endswith("💦")
    assert post.created_at == datetime(2026, 7, 4, 14, 38, 8, 420000, tzinfo=UTC)


def test_it_reads_other_time_formats_and_missing_langs() -> None:
    offset = parse_jetstream_event(_by_rkey("3mptbyoigog2b"))
    no_langs = parse_jetstream_event(_by_rkey("3mptbypt22l26"))
    assert offset is not None and offset.created_at == datetime(2026, 7, 4, 14, 38, 2, tzinfo=UTC)
    assert offset.lang == "en-US"
    assert no_langs is not None and no_langs.lang == ""


@pytest.mark.parametrize(
    "kind",
    ["identity", "account", "app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.graph.follow", "delete", "update"],
)
def test_it_says_none_for_what_is_not_a_new_post(kind: str) -> None:
    events = _events("expected_v1.jsonl")
    event = next(
        e
        for e in events
        if e["kind"] == kind
        or (e["kind"] == "commit" and kind in (e["commit"]["collection"], e["commit"]["operation"]))
    )
    assert parse_jetstream_event(event) is None


DOCS_RECORDS = [
    "post_record_minimal.json",
    "post_record_mention_and_link_facets.json",
    "post_record_reply_root_parent.json",
    "post_record_quote_embed.json",
    "post_record_images_embed.json",
    "post_record_external_embed.json",
    "post_record_langs_th_en.json",
]


@pytest.mark.parametrize("name", DOCS_RECORDS)
def test_it_reads_the_documented_post_records(name: str) -> None:
    record = _load(f"docs-examples/{name}")
    post = parse_jetstream_event(_event_for(record))
    assert post is not None
    assert post.text == record["text"]
    assert post.created_at.year == 2023 and post.created_at.tzinfo is not None


def test_it_reads_the_documented_reply_and_langs() -> None:
    reply = parse_jetstream_event(_event_for(_load("docs-examples/post_record_reply_root_parent.json")))
    langs = parse_jetstream_event(_event_for(_load("docs-examples/post_record_langs_th_en.json")))
    assert reply is not None and reply.in_reply_to == reply.thread_id
    assert reply.in_reply_to == "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k43tv4rft22g"
    assert langs is not None and langs.lang == "th"


@pytest.mark.parametrize("name", ["post_record.json", "extended_post_record.json"])
def test_it_reads_records_fetched_with_get_record(name: str) -> None:
    doc = _load(f"atproto-python-testdata/{name}")
    _, _, did, _, rkey = doc["uri"].split("/")
    post = parse_jetstream_event(_event_for(doc["value"], did=did, rkey=rkey))
    assert post is not None and post.platform_post_id == doc["uri"]
    assert post.created_at.tzinfo is not None  # extended_post_record has a naive time: taken as UTC


def test_it_reads_a_post_view() -> None:
    view = _load("atproto-python-testdata/thread_view_post_with_embed_media.json")["thread"]["post"]
    post = parse_post_view(view)
    assert post.platform_post_id == view["uri"]
    assert post.author_handle == "test.marshal.dev" and post.author_display_name == "Python SDK"
    assert post.url == "https://bsky.app/profile/did:plc:kvwvcn5iqfooopmyzvb4qzba/post/3kaheyt6vpc22"
    assert post.text == "" and post.lang == "en"
    assert post.created_at == datetime(2023, 9, 28, 12, 49, 36, 735000, tzinfo=UTC)
    assert post.raw is view


def test_it_uses_the_did_when_the_handle_does_not_verify() -> None:
    view = copy.deepcopy(_load("atproto-python-testdata/thread_view_post_with_embed_media.json")["thread"]["post"])
    view["author"]["handle"] = "handle.invalid"
    assert parse_post_view(view).author_handle == "did:plc:kvwvcn5iqfooopmyzvb4qzba"


def test_it_reads_a_post_view_reply() -> None:
    view = copy.deepcopy(_load("atproto-python-testdata/thread_view_post_with_embed_media.json")["thread"]["post"])
    view["record"]["reply"] = _load("docs-examples/post_record_reply_root_parent.json")["reply"]
    post = parse_post_view(view)
    assert post.in_reply_to == post.thread_id == view["record"]["reply"]["parent"]["uri"]


_DELETE = object()
HOSTILE = [
    ("kind", 7, '"kind" must be a string'),
    ("commit", None, '"commit" must be an object'),
    ("commit.operation", ["create"], '"commit.operation" must be a string'),
    ("commit.collection", None, '"commit.collection" must be a string'),
    ("did", "did:plc:abc/../../evil", '"did" must be a DID'),
    ("did", _DELETE, '"did" must be a DID'),
    ("commit.rkey", "../3mpt", '"commit.rkey" must be a record key'),
    ("commit.rkey", "x" * 600, '"commit.rkey" must be a record key'),
    ("commit.cid", 5, '"commit.cid" must be a string'),
    ("commit.record", "hello", '"commit.record" must be an object'),
    ("commit.record.text", _DELETE, '"commit.record.text" must be a string'),
    ("commit.record.text", 42, '"commit.record.text" must be a string'),
    ("commit.record.text", "ポ" * (MAX_TEXT_CHARS + 1), "more than the 20000"),
    ("commit.record.text", "a\x00b", '"commit.record.text" contains a NUL'),
    ("commit.record.text", "\udc00", '"commit.record.text" contains a lone surrogate'),
    ("commit.record.createdAt", "4 July", '"commit.record.createdAt" is not an ISO 8601 time'),
    ("commit.record.createdAt", _DELETE, '"commit.record.createdAt" must be an ISO 8601 time'),
    ("commit.record.langs", "ko", '"commit.record.langs" must be a list'),
    ("commit.record.langs", [None], '"commit.record.langs" must be a list'),
    ("commit.record.reply", [], '"commit.record.reply" must be an object'),
    ("commit.record.reply.parent", None, '"commit.record.reply.parent" must be a strong reference'),
    ("commit.record.reply.root.uri", "https://bsky.app/x", '"commit.record.reply.root.uri" must be an at:// URI'),
    ("commit.record.reply.root.cid", float("inf"), '"commit.record.reply.root.cid" is inf'),
]


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    *parents, last = path.split(".")
    target: Any = doc
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return doc


@pytest.mark.parametrize(("path", "value", "reason"), HOSTILE, ids=[f"{p}={r}" for p, _, r in HOSTILE])
def test_it_names_the_field_of_a_hostile_event(path: str, value: Any, reason: str) -> None:
    event = _by_rkey("3mptbyp7lu223")  # a Korean reply
    with pytest.raises(PayloadError) as caught:
        parse_jetstream_event(_set(event, path, value))
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("uri", "at://did:plc:x/app.bsky.feed.like/3k", '"uri" must be an at://'),
        ("uri", None, '"uri" must be an at://'),
        ("author", "someone", '"author" must be an object'),
        ("author.handle", "two words", '"author.handle" must be a handle'),
        ("author.displayName", 3, '"author.displayName" must be a string'),
        ("record.text", None, '"record.text" must be a string'),
        ("record.embed.media.images", [{"alt": "\x00"}], '"record.embed.media.images[0].alt" contains a NUL'),
    ],
)
def test_it_names_the_field_of_a_hostile_post_view(path: str, value: Any, reason: str) -> None:
    view = _load("atproto-python-testdata/thread_view_post_with_embed_media.json")["thread"]["post"]
    with pytest.raises(PayloadError) as caught:
        parse_post_view(_set(view, path, value))
    assert reason in str(caught.value)


def test_it_refuses_what_is_not_an_object() -> None:
    values: list[object] = [None, [], "event", 1.5]
    for value in values:
        with pytest.raises(PayloadError, match="expected a Jetstream event object"):
            parse_jetstream_event(value)
        with pytest.raises(PayloadError, match="expected a postView object"):
            parse_post_view(value)


KEYS = st.sampled_from(
    ["did", "kind", "commit", "operation", "collection", "rkey", "record", "cid", "text", "createdAt", "langs",
     "reply", "parent", "root", "uri", "author", "handle", "displayName", "$type"]
) | st.text(max_size=6)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(["commit", "create", POST, "did:plc:abc", "3k4duaz5vfs2b", "2023-08-07T05:31:12Z", "at://x"])
)
JSONISH = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5), max_leaves=25
)


def _never_raises_otherwise(parse: Any, value: Any) -> None:
    try:
        result = parse(value)
    except PayloadError:
        return
    assert result is None or isinstance(result, IncomingPost)


@settings(max_examples=300, deadline=None)
@given(event=st.dictionaries(KEYS, JSONISH, max_size=6))
def test_it_never_raises_on_any_json_object(event: dict[str, Any]) -> None:
    _never_raises_otherwise(parse_jetstream_event, event)
    _never_raises_otherwise(parse_post_view, event)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_it_never_raises_on_a_production_event_with_one_field_replaced(data: st.DataObject) -> None:
    event = _by_rkey("3mptbyproxc2q")
    path = data.draw(st.sampled_from(paths(event)))
    _never_raises_otherwise(parse_jetstream_event, replace_at(event, path, data.draw(JSONISH)))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_it_never_raises_on_a_post_view_with_one_field_replaced(data: st.DataObject) -> None:
    view = _load("atproto-python-testdata/thread_view_post_with_embed_media.json")["thread"]["post"]
    path = data.draw(st.sampled_from(paths(view)))
    _never_raises_otherwise(parse_post_view, replace_at(view, path, data.draw(JSONISH)))
