"""Mastodon parser, driven by the recorded REST and streaming payloads in ../shared/fixtures/mastodon."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.posts import MAX_TEXT_CHARS, IncomingPost, PayloadError
from kizuna.sources.mastodon.parser import html_to_text, parse_sse_stream, parse_status
from tests.sources.mutation import paths, replace_at

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
MASTODON = FIXTURES / "mastodon"
MISSING = pytest.mark.skip(reason=f"recorded payloads not found at {MASTODON}")


def _statuses(body: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every Status entity in a response body, with where it sits."""
    if isinstance(body, list):  # notifications
        return [(f"[{i}].status", n["status"]) for i, n in enumerate(body) if n.get("status")]
    if not isinstance(body, dict):
        return []
    if "content" in body and "account" in body:
        return [("", body)]
    if "ancestors" in body:
        return [(f"{k}[{i}]", s) for k in ("ancestors", "descendants") for i, s in enumerate(body[k])]
    if "statuses" in body:
        return [(f"statuses[{i}]", s) for i, s in enumerate(body["statuses"])]
    if body.get("status"):
        return [("status", body["status"])]
    return []


def _recorded_statuses() -> list[Any]:
    if not MASTODON.is_dir():
        return [pytest.param("", "", {}, marks=MISSING, id="missing")]
    params = []
    for path in sorted(MASTODON.glob("*.json")):
        for i, interaction in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            host = interaction["request"]["uri"].split("/")[2]
            for where, status in _statuses(interaction["response"]["body"]):
                params.append(pytest.param(host, where, status, id=f"{path.name}[{i}]{where}"))
    return params


RECORDED = _recorded_statuses()


def _load(name: str) -> Any:
    path = MASTODON / name
    if not path.exists():
        pytest.skip(f"recorded payload {path} not found")
    return json.loads(path.read_text(encoding="utf-8"))


def _status(name: str, index: int = 0) -> dict[str, Any]:
    body = _load(name)[index]["response"]["body"]
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize(("host", "where", "status"), RECORDED)
def test_it_reads_every_recorded_status(host: str, where: str, status: dict[str, Any]) -> None:
    post = parse_status(status, instance=host)
    assert post.platform == "mastodon"
    assert post.platform_post_id == status["id"]
    assert post.author_handle.startswith(status["account"]["acct"]) and "@" in post.author_handle
    assert post.text and "<" not in post.text
    assert post.created_at.tzinfo is not None
    assert post.url == status["url"]
    assert post.lang == (status["language"] or "")
    assert post.in_reply_to == (status["in_reply_to_id"] or "")
    assert post.raw is status


def test_it_finds_twenty_statuses_in_the_recordings() -> None:
    if not MASTODON.is_dir():
        pytest.skip(f"recorded payloads not found at {MASTODON}")
    assert len(RECORDED) == 20


def test_it_turns_html_into_the_text_that_was_typed() -> None:
    post = parse_status(_status("test_entity_status.json"), instance="mastodon.social")
    assert post.text == (
        "test post for mastodon.py stuff\n\n"  # the content warning comes first
        "@halcy you're a doo-doo head\n\n"
        "edit: editing this to have the maximum amount of fields filled :trans_heart: #ThisIsAHashtag"
    )
    assert post.author_handle == "halcy@icosahedron.website"  # remote: already has its domain
    assert post.author_display_name == "halcy\u200b :icosahedron:"
    assert post.author_followers == 3553
    assert post.created_at == datetime(2023, 5, 28, 12, 6, 50, tzinfo=UTC)


def test_it_adds_the_instance_to_local_accounts_only_when_given() -> None:
    status = _status("test_entity_status.json", 1)
    assert parse_status(status, instance="mastodon.social").author_handle == "halcy@mastodon.social"
    assert parse_status(status).author_handle == "halcy"


def test_it_maps_a_reply() -> None:
    reply = _status("test_status_reply.json", 2)
    post = parse_status(reply, instance="localhost:3000")
    assert post.in_reply_to == post.thread_id == "117020583245459824"
    assert post.text == "@mastodonpy_test_2 same!"


def test_it_reads_a_reblog_as_the_reblogger_reposting_the_original() -> None:
    original = _status("test_entity_status.json", 1)
    reblog = copy.deepcopy(original)
    reblog.update(id="110446999999999999", content="", url=None, language=None, reblog=original, spoiler_text="")
    reblog["account"] = _status("test_status_reply.json", 1)  # verify_credentials: an Account
    post = parse_status(reblog, instance="localhost:3000")
    assert post.is_repost
    assert post.platform_post_id == "110446999999999999"
    assert post.author_handle == "admin@localhost:3000"
    assert post.text == "test?" and post.lang == "de"
    assert post.url == original["url"]


def test_it_reads_the_user_stream() -> None:
    text = (MASTODON / "test_stream_user_local.sse.txt").read_text(encoding="utf-8") if MASTODON.is_dir() else ""
    if not text:
        pytest.skip("recorded stream not found")
    ((event, post),) = parse_sse_stream(text, instance="localhost:3000")
    assert event == "update" and isinstance(post, IncomingPost)
    assert post.text == "it's cool guy" and post.lang == "ja"
    assert post.author_handle == "mastodonpy_test@localhost:3000"


@pytest.mark.parametrize("name", ["test_stream_direct.sse.txt", "test_stream_healthy.sse.txt"])
def test_it_leaves_out_streams_without_updates(name: str) -> None:
    path = MASTODON / name
    if not path.exists():
        pytest.skip(f"recorded stream {path} not found")
    assert parse_sse_stream(path.read_text(encoding="utf-8")) == []  # a conversation event; an "OK"


def test_it_reads_every_event_kind_of_a_stream() -> None:
    status = _status("test_status_reply.json", 0)
    notification = _status("test_notifications_mentions_only.json", 2)
    stream = "\r\n".join(
        [
            ":thump",
            "event: update",
            f"data: {json.dumps(status)}",
            "",
            "event: delete",
            "data: 117020583245459824",
            "",
            "event: notification",
            f"data: {json.dumps(notification)}",
            "",
            "event: notification",
            'data: {"id": "9", "type": "follow", "status": null}',
            "",
            "event: status.update",
            f"data: {json.dumps(status)}",
            "",
            "event: filters_changed",
            "",
            "event: update",
            "data: {not json",
            "",
            "event: update",
            "data: ",
            "",
            "",
        ]
    )
    items = parse_sse_stream(stream)
    assert [event for event, _ in items] == ["update", "delete", "notification", "update", "update"]
    assert isinstance(items[0][1], IncomingPost) and items[0][1].text == "Toot, finally!"
    assert items[1][1] == "117020583245459824"
    assert isinstance(items[2][1], IncomingPost) and items[2][1].text == "@mastodonpy_test hello!"
    assert isinstance(items[3][1], PayloadError) and "update event: data is not JSON" in str(items[3][1])
    assert isinstance(items[4][1], PayloadError)


def test_it_joins_multi_line_data_and_keeps_unicode_line_separators() -> None:
    status = copy.deepcopy(_status("test_status_reply.json", 0))
    status["content"] = "<p>行1\u2028行2</p>"
    body = json.dumps(status, ensure_ascii=False, indent=1)  # JSON may hold U+2028 raw
    stream = "event: update\n" + "\n".join(f"data:{line}" for line in body.split("\n")) + "\n\n"
    ((event, post),) = parse_sse_stream(stream)
    assert isinstance(post, IncomingPost) and post.text == "行1\u2028行2"


def test_it_leaves_out_an_unfinished_event() -> None:
    status = _status("test_status_reply.json", 0)
    assert parse_sse_stream(f"event: update\ndata: {json.dumps(status)}\n") == []


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a<br>b<br/>c</p>", "a\nb\nc"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>one</p>\n<p>two</p>\n", "one\n\ntwo"),
        ("<p>Q&amp;A &lt;3 &#39;quoted&#39; &nbsp;x</p>", "Q&A <3 'quoted' \xa0x"),
        (
            '<p><a href="https://example.com/a/very/long/path"><span class="invisible">https://</span>'
            '<span class="ellipsis">example.com/a/very</span><span class="invisible">/long/path</span></a></p>',
            "https://example.com/a/very/long/path",
        ),
        ("<p>hi<script>alert(1)</script><style>p{}</style></p>", "hi"),
        ("<ul><li>one</li><li>two</li></ul><p>end", "one\ntwo\n\nend"),
        ("plain text, no tags", "plain text, no tags"),
        ("<p>ポッキー</p><p>美味しい☆</p>", "ポッキー\n\n美味しい☆"),
        ("<<<>>>&&&;", "<<<>>>&&&;"),
        ("", ""),
    ],
)
def test_it_renders_html_as_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


_DELETE = object()
HOSTILE = [
    ("id", _DELETE, '"id" must be a status id'),
    ("id", "", '"id" must be a status id'),
    ("id", "1 2", '"id" must be a status id'),
    ("id", 1.5, '"id" must be a status id'),
    ("account", None, '"account" must be an object'),
    ("account.acct", 5, '"account.acct" must be user or user@domain'),
    ("account.acct", "a@b@c", '"account.acct" must be user or user@domain'),
    ("account.acct", "../x", '"account.acct" must be user or user@domain'),
    ("account.display_name", ["x"], '"account.display_name" must be a string'),
    ("account.followers_count", "3k", '"account.followers_count" must be an integer'),
    ("content", 7, '"content" must be a string'),
    (
        "content",
        "<p>" + "あ" * (MAX_TEXT_CHARS + 1) + "</p>",
        '"content" is 20034 characters, more than the 20000',
    ),  # with the content warning
    ("content", "<b>" * (26 * MAX_TEXT_CHARS), '"content" is 1560000 characters of HTML'),
    ("content", "<p>\x00</p>", '"content" contains a NUL'),
    ("content", "<p>\ud800</p>", '"content" contains a lone surrogate'),
    ("spoiler_text", {"cw": 1}, '"spoiler_text" must be a string'),
    ("created_at", "2023-13-45", '"created_at" is not an ISO 8601 time'),
    ("created_at", None, '"created_at" must be an ISO 8601 time'),
    ("in_reply_to_id", ["1"], '"in_reply_to_id" must be a status id'),
    ("language", 1, '"language" must be a string'),
    ("url", False, '"url" must be a string'),
    ("reblog", "yes", '"reblog" must be a status object'),
    ("reblog", {"content": 3}, '"reblog.content" must be a string'),
    ("media_attachments", [{"meta": {"duration": float("nan")}}], '"media_attachments[0].meta.duration" is nan'),
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
def test_it_names_the_field_of_a_hostile_status(path: str, value: Any, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_status(_set(_status("test_entity_statusmention.json"), path, value))
    assert reason in str(caught.value)


def test_it_drops_a_url_that_is_not_http() -> None:
    status = _set(_status("test_entity_status.json", 1), "url", "javascript:alert(1)")
    assert parse_status(status).url == ""


def test_it_refuses_what_is_not_an_object() -> None:
    values: list[object] = [None, [], "status", 3]
    for value in values:
        with pytest.raises(PayloadError, match="expected a Mastodon status object"):
            parse_status(value)
    with pytest.raises(PayloadError, match="expected the event stream as text"):
        parse_sse_stream(b"event: update")  # type: ignore[arg-type]


KEYS = st.sampled_from(
    ["id", "created_at", "content", "account", "acct", "display_name", "followers_count", "reblog",
     "in_reply_to_id", "language", "url", "spoiler_text", "status", "type"]
) | st.text(max_size=6)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(["117020583245459824", "2026-08-01T13:53:15.378Z", "<p>x<br>y</p>", "halcy@example.social"])
)
JSONISH = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5), max_leaves=25
)


def _parse_or_reason(status: Any) -> IncomingPost | PayloadError:
    try:
        return parse_status(status, instance="example.social")
    except PayloadError as exc:
        return exc


@settings(max_examples=300, deadline=None)
@given(status=st.dictionaries(KEYS, JSONISH, max_size=8))
def test_it_never_raises_on_any_json_object(status: dict[str, Any]) -> None:
    assert isinstance(_parse_or_reason(status), IncomingPost | PayloadError)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_it_never_raises_on_a_recorded_status_with_one_field_replaced(data: st.DataObject) -> None:
    status = _status("test_entity_statusmention.json")
    path = data.draw(st.sampled_from(paths(status)))
    assert isinstance(_parse_or_reason(replace_at(status, path, data.draw(JSONISH))), IncomingPost | PayloadError)


SSE_LINES = st.lists(
    st.sampled_from(["", ":)", "event: update", "event: delete", "event: notification", "data: {}", "data: 1"])
    | JSONISH.map(lambda v: "data: " + json.dumps(v))
    | st.text(max_size=20),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(lines=SSE_LINES, newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_it_never_raises_on_any_event_stream(lines: list[str], newline: str) -> None:
    for event, item in parse_sse_stream(newline.join(lines) + newline * 2):
        assert event in {"update", "delete", "notification"}
        assert isinstance(item, IncomingPost | PayloadError | str)


@settings(max_examples=300, deadline=None)
@given(html=st.text() | st.lists(st.sampled_from(["<p>", "</p>", "<br>", "&amp;", "<a href='x'>", "<!--", "<![CDATA[", "&#", "x"])).map("".join))  # fmt: skip
def test_it_renders_any_text_without_raising(html: str) -> None:
    assert isinstance(html_to_text(html), str)
