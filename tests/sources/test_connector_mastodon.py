"""Mastodon connector and publisher against a fake instance at the httpx transport, fed recorded payloads."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.sources.base import AuthFailed, RateLimited, ReplyTarget
from kizuna.sources.mastodon.connector import MastodonApi, MastodonSearchCollector, MastodonStreamCollector
from kizuna.sources.mastodon.publisher import MastodonPublisher

MASTODON = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "mastodon"
pytestmark = pytest.mark.skipif(not MASTODON.exists(), reason=f"recorded payloads not found at {MASTODON}")
NOW = datetime(2026, 8, 1, 13, 54, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


def _cassette(name: str) -> list[dict[str, Any]]:
    return json.loads((MASTODON / name).read_text(encoding="utf-8"))


def _response(name: str, index: int = 0) -> Any:
    return _cassette(name)[index]["response"]["body"]


def _status(status_id: str) -> dict[str, Any]:
    """A recorded status, under another id."""
    status = copy.deepcopy(_response("test_status_reply.json", 0))
    status["id"] = status_id
    status["url"] = f"http://localhost:3000/@mastodonpy_test/{status_id}"
    return status


class FakeInstance:
    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.routes[request.url.path](request)

    def api(self, reserve: int = 0) -> MastodonApi:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return MastodonApi(
            http, base_url="http://localhost:3000", access_token="tok", reserve=reserve, clock=lambda: NOW
        )


def _limits(remaining: int = 299, reset: str = "2026-08-01T13:55:00.146988Z") -> dict[str, str]:
    return {"x-ratelimit-limit": "300", "x-ratelimit-remaining": str(remaining), "x-ratelimit-reset": reset}


# --- search polling ----------------------------------------------------------------------------


def test_it_polls_search_with_min_id_and_pages_back_with_max_id() -> None:
    pages = {None: [_status("110"), _status("109")], "109": [_status("108")]}

    def search(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        assert (params["q"], params["type"], params["min_id"]) == ("ポッキー", "statuses", "100")
        return httpx.Response(200, json={"accounts": [], "statuses": pages[params.get("max_id")]}, headers=_limits())

    fake = FakeInstance({"/api/v2/search": search})
    collector = MastodonSearchCollector(fake.api(), queries={"r1": "ポッキー"}, page_size=2)
    result = collector.collect({"min_ids": {"r1": "100"}})
    assert [p.platform_post_id for p in result.items if isinstance(p, IncomingPost)] == ["110", "109", "108"]
    assert result.state == {"min_ids": {"r1": "110"}, "pending": {}}
    assert [r.url.params.get("max_id") for r in fake.requests] == [None, "109"]
    assert result.items[0].author_handle == "mastodonpy_test_2@localhost"  # type: ignore[union-attr]
    quota = result.quotas[0]
    assert (quota.name, quota.used, quota.limit) == ("requests (5 min)", 1, 300)
    assert quota.resets_at == datetime(2026, 8, 1, 13, 55, 0, 146988, tzinfo=UTC)


def test_it_starts_search_from_now_the_first_time() -> None:
    fake = FakeInstance(
        {"/api/v2/search": lambda r: httpx.Response(200, json={"statuses": [_status("7"), _status("12")]})}
    )
    result = MastodonSearchCollector(fake.api(), queries={"r1": "q"}, page_size=2).collect({})
    assert len(fake.requests) == 1 and "min_id" not in fake.requests[0].url.params
    assert result.state["min_ids"] == {"r1": "12"}  # ids compare as numbers, not text


def test_it_raises_rate_limited_with_the_iso_reset_time() -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"error": "Too many requests"}, headers=_limits(0, "2026-08-01T14:00:00.023707Z")
        )

    fake = FakeInstance({"/api/v2/search": limited})
    with pytest.raises(RateLimited) as caught:
        MastodonSearchCollector(fake.api(), queries={"r1": "q"}).collect({})
    assert caught.value.reset_at == datetime(2026, 8, 1, 14, 0, 0, 23707, tzinfo=UTC)


def test_it_stops_reading_before_the_requests_kept_for_replies() -> None:
    fake = FakeInstance({"/api/v2/search": lambda r: httpx.Response(200, json={"statuses": []}, headers=_limits(10))})
    collector = MastodonSearchCollector(fake.api(reserve=10), queries={"a": "a", "b": "b"})
    with pytest.raises(RateLimited):
        collector.collect({})
    assert len(fake.requests) == 1  # the first answer said 10 left: the second query waits


def test_it_quarantines_a_malformed_status_and_keeps_the_rest() -> None:
    broken = _status("5")
    broken["account"] = "nobody"
    fake = FakeInstance({"/api/v2/search": lambda r: httpx.Response(200, json={"statuses": [_status("6"), broken]})})
    result = MastodonSearchCollector(fake.api(), queries={"r1": "q"}).collect({})
    assert [type(i) for i in result.items] == [IncomingPost, PayloadError]
    assert json.loads(result.bad_payloads[0])["account"] == "nobody"


def test_it_reports_a_refused_token_as_auth_failed() -> None:
    fake = FakeInstance(
        {
            "/api/v1/accounts/verify_credentials": lambda r: httpx.Response(
                401, json={"error": "The access token is invalid"}
            )
        }
    )
    with pytest.raises(AuthFailed, match="The access token is invalid"):
        fake.api().test_connection()


def test_it_reads_the_instance_limit_and_a_thread() -> None:
    context = _cassette("test_entity_context.json")[0]["response"]["body"]
    fake = FakeInstance(
        {
            "/api/v2/instance": lambda r: httpx.Response(200, json=_response("test_stream_healthy.json", 0)),
            "/api/v1/statuses/110446983926957470/context": lambda r: httpx.Response(200, json=context),
        }
    )
    api = fake.api()
    limits = api.instance_limits()
    assert (limits.max_characters, limits.characters_reserved_per_url) == (500, 23)
    thread = api.context("110446983926957470")
    assert [p.platform_post_id for p in thread] == [context["ancestors"][0]["id"], context["descendants"][0]["id"]]


# --- streaming ---------------------------------------------------------------------------------


def _recorded_sse() -> bytes:
    text = (MASTODON / "test_stream_user_local.sse.txt").read_text(encoding="utf-8")
    return text.split("\n", 1)[1].encode()  # the first line notes where it was recorded


def _sse_update(status: dict[str, Any]) -> bytes:
    return b"event: update\ndata: " + json.dumps(status).encode() + b"\n\n"


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.01
        return self.now


def _streamer(fake: FakeInstance, **kwargs: Any) -> tuple[MastodonStreamCollector, list[float]]:
    slept: list[float] = []
    collector = MastodonStreamCollector(
        fake.api(), sleep=slept.append, monotonic=Ticker(), rng=random.Random(5), max_seconds=1.0, **kwargs
    )
    return collector, slept


def _connections(*bodies: list[bytes]) -> Handler:
    queue = list(bodies)

    def stream(request: httpx.Request) -> httpx.Response:
        if not queue:
            return httpx.Response(503, json={"error": "down for maintenance"})
        return httpx.Response(200, content=iter(queue.pop(0)), headers={"content-type": "text/event-stream"})

    return stream


def test_it_reads_sse_events_across_chunks_and_quarantines_a_bad_one() -> None:
    recorded = _recorded_sse()
    half = len(recorded) // 2
    bad = b"event: update\r\ndata: {broken\r\n\r\n"
    fake = FakeInstance(
        {"/api/v1/streaming/user": _connections([b":thump\n\n", recorded[:half], recorded[half:], bad])}
    )
    collector, slept = _streamer(fake, stream="user")
    result = collector.collect({})
    posts = [i for i in result.items if isinstance(i, IncomingPost)]
    assert [p.platform_post_id for p in posts] == ["117024248092393661"]
    assert posts[0].text == "it's cool guy"
    assert [str(i) for i in result.items if isinstance(i, PayloadError)][0].startswith("update event: data is not JSON")
    assert result.bad_payloads == ["{broken"]
    assert fake.requests[0].headers["Accept"] == "text/event-stream"
    assert fake.requests[0].headers["Authorization"] == "Bearer tok"
    assert slept and result.state["last_id"] == "117024248092393661"


def test_it_fills_the_gap_after_a_reconnect_from_the_timeline_without_duplicates() -> None:
    def tag_timeline(request: httpx.Request) -> httpx.Response:
        pages = {"100": [_status("105"), _status("103")], "105": []}
        return httpx.Response(200, json=pages[request.url.params["min_id"]], headers=_limits())

    fake = FakeInstance(
        {
            "/api/v1/streaming/hashtag": _connections([_sse_update(_status("105")), _sse_update(_status("110"))]),
            "/api/v1/timelines/tag/ポッキー": tag_timeline,
        }
    )
    collector, _ = _streamer(fake, stream="hashtag", tag="#ポッキー")
    result = collector.collect({"last_id": "100"})
    assert [p.platform_post_id for p in result.items] == ["105", "103", "110"]
    assert result.state["last_id"] == "110"
    assert fake.requests[0].url.params["tag"] == "ポッキー"
    assert [r.url.path for r in fake.requests[:3]] == [
        "/api/v1/streaming/hashtag",
        "/api/v1/timelines/tag/ポッキー",
        "/api/v1/timelines/tag/ポッキー",
    ]


def test_it_waits_longer_the_more_reconnects_have_failed() -> None:
    fake = FakeInstance({"/api/v1/streaming/public": _connections()})
    collector, slept = _streamer(fake, stream="public")
    result = collector.collect({"failures": 3})
    assert result.items == [] and result.state["failures"] >= 4
    delays = [*slept, result.wait_seconds]
    assert 4.0 <= delays[0] <= 8.0 and all(b >= a / 2 for a, b in zip(delays, delays[1:], strict=False))


# --- publisher ---------------------------------------------------------------------------------

TARGET = ReplyTarget(platform_post_id="117020583245459824", author_handle="mastodonpy_test_2@localhost")


def test_it_replies_with_in_reply_to_id_and_our_idempotency_key() -> None:
    reply = _response("test_status_reply.json", 2)
    fake = FakeInstance({"/api/v1/statuses": lambda r: httpx.Response(200, json=reply, headers=_limits(278))})
    publisher = MastodonPublisher(fake.api(), visibility="public")
    published = publisher.publish(text="@mastodonpy_test_2 same!", target=TARGET, idempotency_key="outbox-42")
    request = fake.requests[0]
    assert request.headers["Idempotency-Key"] == "outbox-42"
    assert json.loads(request.content) == {
        "status": "@mastodonpy_test_2 same!",
        "in_reply_to_id": "117020583245459824",
        "visibility": "public",
    }
    assert published.platform_post_id == "117020583258292382"
    assert published.url == "http://localhost:3000/@admin/117020583258292382"


def test_it_reconciles_by_finding_an_already_posted_reply() -> None:
    reply = _response("test_status_reply.json", 2)
    me = _response("test_status_reply.json", 1)
    fake = FakeInstance(
        {
            "/api/v1/accounts/verify_credentials": lambda r: httpx.Response(200, json=me),
            f"/api/v1/accounts/{me['id']}/statuses": lambda r: httpx.Response(200, json=[_status("1"), reply]),
        }
    )
    publisher = MastodonPublisher(fake.api())
    found = publisher.find_published(text="@mastodonpy_test_2  same!", target=TARGET, idempotency_key="k")
    assert found is not None and found.platform_post_id == reply["id"]
    assert publisher.find_published(text="something else", target=TARGET, idempotency_key="k") is None
    assert all(r.method == "GET" for r in fake.requests)


def test_it_refuses_an_unknown_visibility() -> None:
    with pytest.raises(ValueError, match="visibility"):
        MastodonPublisher(FakeInstance({}).api(), visibility="everyone")
