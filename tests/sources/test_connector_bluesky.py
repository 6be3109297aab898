"""Bluesky connector and publisher: a local Jetstream (websockets) fed the production capture, XRPC faked at httpx."""

from __future__ import annotations

import json
import random
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.sync.server import Server, ServerConnection, serve

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.sources.base import AuthFailed, RateLimited, ReplyTarget
from kizuna.sources.bluesky.connector import JetstreamCollector, XrpcClient, fetch_author_feed, fetch_thread
from kizuna.sources.bluesky.publisher import BlueskyPublisher, rkey_for

BSKY = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "bluesky"
CAPTURE = BSKY / "jetstream" / "expected_v1.jsonl"
pytestmark = pytest.mark.skipif(not CAPTURE.exists(), reason=f"recorded payloads not found at {BSKY}")
NOW = datetime(2026, 7, 4, 15, 0, tzinfo=UTC)
OURS = "did:plc:kizunadeskaccount0000000"
Handler = Callable[[httpx.Request], httpx.Response]


def _capture() -> list[str]:
    return CAPTURE.read_text(encoding="utf-8").splitlines()


def _post_creates(lines: list[str]) -> list[str]:
    """The at:// URIs of the posts created in the capture, in order."""
    uris = []
    for line in lines:
        event = json.loads(line)
        commit = event.get("commit") or {}
        if commit.get("collection") == "app.bsky.feed.post" and commit.get("operation") == "create":
            uris.append(f"at://{event['did']}/app.bsky.feed.post/{commit['rkey']}")
    return uris


class FakeJetstream:
    """Serves the capture from the requested cursor (time_us, inclusive), like Jetstream's replay.

    `drops` gives, per connection, after how many messages the server hangs up; without
    one, it sends everything and keeps the connection open.
    """

    def __init__(self, lines: list[str], drops: list[int] | None = None) -> None:
        self.lines, self.drops = lines, list(drops or [])
        self.paths: list[str] = []
        self.server: Server = serve(self.handle, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"

    def cursors(self) -> list[int | None]:
        found = [parse_qs(urlsplit(path).query).get("cursor") for path in self.paths]
        return [int(c[0]) if c else None for c in found]

    def handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.paths.append(ws.request.path)
        cursor = self.cursors()[-1]
        drop = self.drops.pop(0) if self.drops else None
        sent = 0
        for line in self.lines:
            if cursor is not None and _time_us(line) is not None and (_time_us(line) or 0) < cursor:
                continue
            if drop is not None and sent >= drop:
                ws.close(1011, "going away")
                return
            ws.send(line)
            sent += 1
        for _ in ws:  # hold the connection open until the client leaves
            pass

    def __enter__(self) -> FakeJetstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def _time_us(line: str) -> int | None:
    try:
        return int(json.loads(line)["time_us"])
    except (ValueError, KeyError, TypeError):
        return None


def _jetstream(
    url: str, match: Callable[[IncomingPost], bool] = lambda post: True, *, events: int = 20_000
) -> tuple[JetstreamCollector, list[float]]:
    """A collector that stops after `events` messages (or 10 s: a test that waits that long has failed)."""
    slept: list[float] = []
    collector = JetstreamCollector(
        match=match,
        url=url,
        max_seconds=10,
        max_events=events,
        sleep=slept.append,
        rng=random.Random(3),
        open_timeout=5,
    )
    return collector, slept


def _uris(items: list[IncomingPost | PayloadError]) -> list[str]:
    return [item.platform_post_id for item in items if isinstance(item, IncomingPost)]


def test_it_delivers_matched_posts_and_quarantines_malformed_messages() -> None:
    lines = _capture()
    lines.insert(10, "{not json")
    with FakeJetstream(lines) as jetstream:
        collector, _ = _jetstream(jetstream.url, events=len(lines))
        result = collector.collect({})
        collector.close()
    assert sorted(_uris(result.items)) == sorted(_post_creates(_capture()))
    errors = [item for item in result.items if isinstance(item, PayloadError)]
    assert len(errors) == 1 and "not JSON" in str(errors[0]) and result.bad_payloads == ["{not json"]
    assert result.state["cursor"] == max(_time_us(line) or 0 for line in lines)
    assert jetstream.paths == ["/subscribe?wantedCollections=app.bsky.feed.post"]


def test_it_returns_only_the_posts_the_matcher_accepts() -> None:
    with FakeJetstream(_capture()) as jetstream:
        collector, _ = _jetstream(jetstream.url, match=lambda post: post.lang == "ja", events=152)
        result = collector.collect({})
        collector.close()
    assert [post.lang for post in result.items if isinstance(post, IncomingPost)] == ["ja"]
    assert [uri for _, uri in result.state["delivered"]] == _uris(result.items)


def test_it_quarantines_a_post_that_breaks_the_matcher() -> None:
    def brittle(post: IncomingPost) -> bool:
        if post.lang == "ko":
            raise RuntimeError("boom")
        return False

    with FakeJetstream(_capture()) as jetstream:
        collector, _ = _jetstream(jetstream.url, match=brittle, events=152)
        result = collector.collect({})
        collector.close()
    assert len(result.items) == 1 and "matcher failed" in str(result.items[0])
    assert json.loads(result.bad_payloads[0])["commit"]["record"]["langs"] == ["ko"]


def test_it_resumes_after_a_disconnect_with_no_gap_and_no_duplicate() -> None:
    lines = _capture()
    # After 50 messages the highest time_us read is later than that of posts 53-55, which
    # Jetstream delivered out of time order: a cursor-only resume would lose them.
    seen_max = max(_time_us(line) or 0 for line in lines[:50])
    assert any((_time_us(line) or 0) < seen_max for line in lines[50:56])
    with FakeJetstream(lines, drops=[50]) as jetstream:
        collector, slept = _jetstream(jetstream.url, events=50 + len(lines))  # the replay resends all 152
        result = collector.collect({})
        collector.close()
    assert _uris(result.items) == sorted(set(_uris(result.items)), key=_uris(result.items).index)  # no duplicate
    assert sorted(_uris(result.items)) == sorted(_post_creates(lines))  # no gap
    assert jetstream.cursors() == [None, seen_max - 5_000_000]
    assert len(slept) == 1 and 0.5 <= slept[0] <= 1.0
    assert result.state["failures"] == 0


def test_it_resumes_from_the_saved_cursor_in_a_new_process() -> None:
    lines = _capture()
    with FakeJetstream(lines[:60]) as first:
        collector, _ = _jetstream(first.url, events=60)
        before = collector.collect({})
        collector.close()
    saved = json.loads(json.dumps(before.state))  # as the Django side stores it
    with FakeJetstream(lines) as second:
        collector, _ = _jetstream(second.url, events=len(lines))
        after = collector.collect(saved)
        collector.close()
    assert second.cursors() == [saved["cursor"] - 5_000_000]
    assert not set(_uris(before.items)) & set(_uris(after.items))
    assert sorted(_uris(before.items) + _uris(after.items)) == sorted(_post_creates(lines))


def test_it_keeps_the_connection_open_between_calls() -> None:
    with FakeJetstream(_capture()) as jetstream:
        collector, _ = _jetstream(jetstream.url, events=152)
        first = collector.collect({})
        collector.max_seconds = 0.3  # nothing more will come
        second = collector.collect(first.state)
        collector.close()
    assert len(jetstream.paths) == 1 and second.items == []
    assert second.state["cursor"] == first.state["cursor"]


# --- XRPC sessions -----------------------------------------------------------------------------


class FakeXrpc:
    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.routes[request.url.path.removeprefix("/xrpc/")](request)

    def calls(self) -> list[str]:
        return [r.url.path.removeprefix("/xrpc/") for r in self.requests]

    def client(self, state: dict[str, Any] | None = None, identifier: str = "kizuna.example.com") -> XrpcClient:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return XrpcClient(http, identifier=identifier, app_password="app-pass", state=state, clock=lambda: NOW)


def _session(access: str, refresh: str) -> Handler:
    doc = {"did": OURS, "handle": "kizuna.example.com", "accessJwt": access, "refreshJwt": refresh}
    return lambda request: httpx.Response(200, json=doc)


def _expired(request: httpx.Request) -> httpx.Response:
    return httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"})


def _thread_doc() -> dict[str, Any]:
    return json.loads((BSKY / "atproto-python-testdata" / "thread_view_post_with_embed_media.json").read_text())


def _needs(token: str, then: Handler) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return then(request) if request.headers.get("Authorization") == f"Bearer {token}" else _expired(request)

    return handler


def test_it_refreshes_an_expired_session_instead_of_signing_in_again() -> None:
    fake = FakeXrpc(
        {
            "app.bsky.feed.getPostThread": _needs("fresh", lambda r: httpx.Response(200, json=_thread_doc())),
            "com.atproto.server.refreshSession": _needs("r-old", _session("fresh", "r-new")),
            "com.atproto.server.createSession": _session("never", "never"),
        }
    )
    client = fake.client({"did": OURS, "accessJwt": "old", "refreshJwt": "r-old"})
    items = fetch_thread(client, _thread_doc()["thread"]["post"]["uri"])
    assert [type(i) for i in items] == [IncomingPost]
    assert fake.calls() == [
        "app.bsky.feed.getPostThread",
        "com.atproto.server.refreshSession",
        "app.bsky.feed.getPostThread",
    ]
    assert client.state["accessJwt"] == "fresh" and client.state["refreshJwt"] == "r-new"


def test_it_signs_in_again_when_the_refresh_token_has_expired_too() -> None:
    fake = FakeXrpc(
        {
            "app.bsky.feed.getPostThread": _needs("new", lambda r: httpx.Response(200, json=_thread_doc())),
            "com.atproto.server.refreshSession": _expired,
            "com.atproto.server.createSession": _session("new", "r-new"),
        }
    )
    client = fake.client({"did": OURS, "accessJwt": "old", "refreshJwt": "r-old"})
    fetch_thread(client, "at://x/app.bsky.feed.post/1")
    assert fake.calls()[-2:] == ["com.atproto.server.createSession", "app.bsky.feed.getPostThread"]
    assert json.loads(fake.requests[2].content) == {"identifier": "kizuna.example.com", "password": "app-pass"}
    assert client.state["session_creates"] == [NOW.isoformat()]


def test_it_refuses_to_sign_in_more_often_than_the_platform_allows() -> None:
    fake = FakeXrpc({"com.atproto.server.createSession": _session("a", "b")})
    creates = [(NOW - timedelta(seconds=10 * i)).isoformat() for i in range(25)]
    with pytest.raises(RateLimited) as caught:
        fake.client({"session_creates": creates}).did  # noqa: B018 - the property signs in
    assert fake.requests == []
    assert caught.value.reset_at == NOW - timedelta(seconds=240) + timedelta(minutes=5)


def test_it_reports_a_refused_app_password_as_auth_failed() -> None:
    refused = {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    fake = FakeXrpc({"com.atproto.server.createSession": lambda r: httpx.Response(401, json=refused)})
    with pytest.raises(AuthFailed, match="Invalid identifier or password"):
        fake.client().did  # noqa: B018


def test_it_reads_a_thread_parents_first_and_an_author_feed_without_reposts() -> None:
    doc = _thread_doc()
    child = doc["thread"]
    root_view = json.loads(json.dumps(child["post"]).replace("3kaheyt6vpc22", "3kaheyroot222"))
    thread = {
        "thread": {**child, "parent": {"post": root_view, "parent": {"$type": "app.bsky.feed.defs#notFoundPost"}}}
    }
    feed = {
        "feed": [{"post": child["post"]}, {"post": root_view, "reason": {"$type": "app.bsky.feed.defs#reasonRepost"}}]
    }
    fake = FakeXrpc(
        {
            "app.bsky.feed.getPostThread": lambda r: httpx.Response(200, json=thread),
            "app.bsky.feed.getAuthorFeed": lambda r: httpx.Response(200, json={**feed, "cursor": "next"}),
        }
    )
    client = fake.client(identifier="")  # public reads need no account
    items = fetch_thread(client, child["post"]["uri"])
    assert _uris(items) == [root_view["uri"], child["post"]["uri"]]
    posts, cursor = fetch_author_feed(client, "test.marshal.dev")
    assert _uris(posts) == [child["post"]["uri"]] and cursor == "next"
    assert "Authorization" not in fake.requests[0].headers


# --- publisher ---------------------------------------------------------------------------------


def _reply_event() -> dict[str, Any]:
    """A recorded Jetstream event of a post that is itself a reply (so it has a thread root)."""
    for line in _capture():
        event = json.loads(line)
        record = (event.get("commit") or {}).get("record") or {}
        if event.get("commit", {}).get("collection") == "app.bsky.feed.post" and "reply" in record:
            return event
    raise AssertionError("no reply in the capture")


def _target(event: dict[str, Any], raw: dict[str, Any] | None = None) -> ReplyTarget:
    uri = f"at://{event['did']}/app.bsky.feed.post/{event['commit']['rkey']}"
    return ReplyTarget(platform_post_id=uri, author_handle=event["did"], raw=event if raw is None else raw)


def _publisher(routes: dict[str, Handler], state: dict[str, Any] | None = None) -> tuple[BlueskyPublisher, FakeXrpc]:
    fake = FakeXrpc(routes)
    client = fake.client(state if state is not None else {"did": OURS, "accessJwt": "a", "refreshJwt": "r"})
    return BlueskyPublisher(client, clock=lambda: NOW), fake


def _create_ok(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(200, json={"uri": f"at://{OURS}/app.bsky.feed.post/{body['rkey']}", "cid": "bafyreinew"})


def _resolve(request: httpx.Request) -> httpx.Response:
    if request.url.params["handle"] == "suzuki.example.com":
        return httpx.Response(200, json={"did": "did:plc:suzuki"})
    return httpx.Response(400, json={"error": "InvalidRequest", "message": "Unable to resolve handle"})


def test_it_replies_with_root_and_parent_refs_and_facets_in_utf8_bytes() -> None:
    event = _reply_event()
    publisher, fake = _publisher(
        {"com.atproto.repo.createRecord": _create_ok, "com.atproto.identity.resolveHandle": _resolve}
    )
    text = "こんにちは @suzuki.example.com さん。詳しくは https://example.com/help をご覧ください ☆"
    published = publisher.publish(text=text, target=_target(event), idempotency_key="outbox-42")

    body = json.loads(fake.requests[-1].content)
    record = body["record"]
    assert (body["repo"], body["collection"], body["rkey"]) == (OURS, "app.bsky.feed.post", rkey_for("outbox-42"))
    assert record["reply"]["parent"] == {"uri": _target(event).platform_post_id, "cid": event["commit"]["cid"]}
    assert record["reply"]["root"] == event["commit"]["record"]["reply"]["root"]
    assert record["createdAt"] == "2026-07-04T15:00:00.000Z" and record["langs"] == ["ja"]
    encoded = text.encode("utf-8")
    spans = {f["features"][0]["$type"].rsplit("#")[-1]: f["index"] for f in record["facets"]}
    mention, link = spans["mention"], spans["link"]
    assert encoded[mention["byteStart"] : mention["byteEnd"]].decode() == "@suzuki.example.com"
    assert encoded[link["byteStart"] : link["byteEnd"]].decode() == "https://example.com/help"
    assert record["facets"][0]["features"][0]["did"] == "did:plc:suzuki"
    assert published.platform_post_id == f"at://{OURS}/app.bsky.feed.post/{rkey_for('outbox-42')}"
    assert published.url == f"https://bsky.app/profile/{OURS}/post/{rkey_for('outbox-42')}"
    assert publisher.client.state["writes"] == [[NOW.isoformat(), 3]]


def test_it_answers_a_thread_root_with_root_equal_to_parent_and_looks_up_a_missing_cid() -> None:
    view = _thread_doc()["thread"]["post"]

    def get_posts(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get_list("uris") == [view["uri"]]
        return httpx.Response(200, json={"posts": [view]})

    publisher, fake = _publisher({"com.atproto.repo.createRecord": _create_ok, "app.bsky.feed.getPosts": get_posts})
    target = ReplyTarget(platform_post_id=view["uri"], author_handle="test.marshal.dev")
    publisher.publish(text="ありがとうございます", target=target, idempotency_key="k")
    reply = json.loads(fake.requests[-1].content)["record"]["reply"]
    assert reply["root"] == reply["parent"] == {"uri": view["uri"], "cid": view["cid"]}
    assert "facets" not in json.loads(fake.requests[-1].content)["record"]


def test_it_treats_a_taken_record_key_as_already_published() -> None:
    event = _reply_event()
    stored = {"uri": f"at://{OURS}/app.bsky.feed.post/{rkey_for('k7')}", "cid": "bafyreiold", "value": {}}
    publisher, fake = _publisher(
        {
            "com.atproto.repo.createRecord": lambda r: httpx.Response(
                400, json={"error": "InvalidRequest", "message": "Record already exists"}
            ),
            "com.atproto.repo.getRecord": lambda r: httpx.Response(200, json=stored),
        }
    )
    published = publisher.publish(text="再送", target=_target(event), idempotency_key="k7")
    assert published.platform_post_id == stored["uri"]
    assert fake.calls() == ["com.atproto.repo.createRecord", "com.atproto.repo.getRecord"]
    assert fake.requests[-1].url.params["rkey"] == rkey_for("k7")


def test_it_reconciles_with_one_lookup_of_the_derived_record_key() -> None:
    not_found = {"error": "RecordNotFound", "message": "Could not locate record"}
    publisher, fake = _publisher({"com.atproto.repo.getRecord": lambda r: httpx.Response(400, json=not_found)})
    assert publisher.find_published(text="x", target=_target(_reply_event()), idempotency_key="k8") is None
    assert fake.calls() == ["com.atproto.repo.getRecord"]


def test_it_refuses_before_the_hourly_write_budget_is_spent() -> None:
    writes = [[(NOW - timedelta(minutes=50)).isoformat(), 2_000], [(NOW - timedelta(minutes=10)).isoformat(), 2_998]]
    state = {"did": OURS, "accessJwt": "a", "writes": writes}
    publisher, fake = _publisher({"com.atproto.repo.createRecord": _create_ok}, state)
    with pytest.raises(RateLimited) as caught:
        publisher.publish(text="x", target=_target(_reply_event()), idempotency_key="k9")
    assert fake.requests == []
    assert caught.value.reset_at == NOW - timedelta(minutes=50) + timedelta(hours=1)


def test_it_passes_on_the_platforms_rate_limit_reset() -> None:
    reset = int((NOW + timedelta(minutes=7)).timestamp())

    def limited(request: httpx.Request) -> httpx.Response:
        headers = {"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)}
        return httpx.Response(
            429, json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers=headers
        )

    publisher, _ = _publisher({"com.atproto.repo.createRecord": limited})
    with pytest.raises(RateLimited) as caught:
        publisher.publish(text="x", target=_target(_reply_event()), idempotency_key="k10")
    assert caught.value.reset_at == datetime.fromtimestamp(reset, UTC)


def test_it_derives_a_valid_stable_tid_from_the_idempotency_key() -> None:
    keys = [rkey_for(f"outbox-{i}") for i in range(1000)]
    assert len(set(keys)) == 1000 and rkey_for("outbox-1") == keys[1]
    tid = "234567abcdefghijklmnopqrstuvwxyz"
    assert all(len(k) == 13 and k[0] in tid[:16] and set(k) <= set(tid) for k in keys)


def test_it_backs_off_longer_each_time_jetstream_cannot_be_reached() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    collector = JetstreamCollector(
        match=lambda post: True, url=f"ws://127.0.0.1:{port}/subscribe", max_seconds=0.2, rng=random.Random(3)
    )
    first = collector.collect({"cursor": 1783175888090631})
    second = collector.collect(first.state)
    assert first.items == [] and first.state["cursor"] == 1783175888090631
    assert (first.state["failures"], second.state["failures"]) == (1, 2)
    assert 0.5 <= first.wait_seconds <= 1.0 and 1.0 <= second.wait_seconds <= 2.0
