"""X connector and publisher against a fake X at the httpx transport, fed recorded responses."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.core.rules import parse_rule
from kizuna.sources.base import AuthFailed, RateLimited, ReplyTarget
from kizuna.sources.x.connector import ReadBudget, XApi, XSearchCollector, XStreamCollector
from kizuna.sources.x.publisher import XPublisher
from kizuna.sources.x.rules import sync_stream_rules, to_x_rule

X = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "x"
pytestmark = pytest.mark.skipif(not X.exists(), reason=f"recorded payloads not found at {X}")
NOW = datetime(2026, 7, 11, 12, 0, tzinfo=UTC)  # 10.5 days into a 31-day month
T = int(NOW.timestamp())
Handler = Callable[[httpx.Request], httpx.Response]


def _load(path: str) -> Any:
    return json.loads((X / path).read_text(encoding="utf-8"))


def _search_page() -> dict[str, Any]:
    return _load("x-docs-examples/apis/searches/search_tweets_query.json")


def _pages() -> tuple[dict[str, Any], dict[str, Any]]:
    """The recorded search response (4 posts with their authors) split into two pages."""
    doc = _search_page()
    first = {"data": doc["data"][:2], "includes": doc["includes"], "meta": {"newest_id": doc["data"][0]["id"]}}
    first["meta"]["next_token"] = "page2"
    second = {"data": doc["data"][2:], "includes": doc["includes"], "meta": {"result_count": 2}}
    return first, second


class FakeX:
    """Answers by path; records every request."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.routes[request.url.path](request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def _headers(remaining: int = 440, reset: int = T + 900) -> dict[str, str]:
    return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": str(reset)}


def _collector(fake: FakeX, **kwargs: Any) -> XSearchCollector:
    kwargs.setdefault("queries", {"r1": "ポッキー"})
    return XSearchCollector(fake.client(), bearer_token="app-token", clock=lambda: NOW, **kwargs)


def test_it_pages_with_next_token_and_moves_since_id_to_the_newest() -> None:
    first, second = _pages()

    def search(request: httpx.Request) -> httpx.Response:
        page = second if request.url.params.get("next_token") == "page2" else first
        return httpx.Response(200, json=page, headers=_headers())

    fake = FakeX({"/2/tweets/search/recent": search})
    result = _collector(fake).collect({"since_ids": {"r1": "1275000000000000000"}})

    assert [p.platform_post_id for p in result.items if isinstance(p, IncomingPost)] == [
        t["id"] for t in _search_page()["data"]
    ]
    assert result.state["since_ids"] == {"r1": "1276035977375477760"}
    assert result.state["pending"] == {}
    params = [r.url.params for r in fake.requests]
    assert [p.get("next_token") for p in params] == [None, "page2"]
    assert all(p["since_id"] == "1275000000000000000" and p["query"] == "ポッキー" for p in params)
    assert params[0]["expansions"] == "author_id,referenced_tweets.id"
    assert params[0]["user.fields"] == "username,name,public_metrics"
    assert "conversation_id" in params[0]["tweet.fields"] and "referenced_tweets" in params[0]["tweet.fields"]
    post = next(p for p in result.items if isinstance(p, IncomingPost))
    assert post.author_handle and post.author_followers >= 0


def test_it_takes_a_single_page_the_first_time_a_rule_is_polled() -> None:
    first, _ = _pages()
    fake = FakeX({"/2/tweets/search/recent": lambda r: httpx.Response(200, json=first, headers=_headers())})
    result = _collector(fake).collect({})
    assert len(fake.requests) == 1 and "since_id" not in fake.requests[0].url.params
    assert result.state["since_ids"] == {"r1": first["data"][0]["id"]}


def test_it_resumes_a_page_chain_cut_short_without_a_gap() -> None:
    first, second = _pages()

    def search(request: httpx.Request) -> httpx.Response:
        page = second if request.url.params.get("next_token") == "page2" else first
        return httpx.Response(200, json=page, headers=_headers())

    fake = FakeX({"/2/tweets/search/recent": search})
    collector = _collector(fake, max_pages=1)
    one = collector.collect({"since_ids": {"r1": "1"}})
    assert one.state["since_ids"] == {"r1": "1"}  # not moved until the chain is read to its end
    assert one.state["pending"]["r1"]["token"] == "page2"
    two = collector.collect(one.state)
    assert fake.requests[1].url.params["next_token"] == "page2"
    assert fake.requests[1].url.params["since_id"] == "1"
    assert two.state["since_ids"] == {"r1": first["data"][0]["id"]} and two.state["pending"] == {}
    ids = [p.platform_post_id for p in one.items + two.items if isinstance(p, IncomingPost)]
    assert ids == [t["id"] for t in _search_page()["data"]]


def test_it_raises_rate_limited_with_the_reset_time_from_the_headers() -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
        return httpx.Response(429, json=body, headers=_headers(remaining=0, reset=T + 600))

    fake = FakeX({"/2/tweets/search/recent": limited})
    with pytest.raises(RateLimited) as caught:
        _collector(fake).collect({"since_ids": {"r1": "1"}})
    assert caught.value.reset_at == datetime.fromtimestamp(T + 600, UTC)


def test_it_keeps_what_it_got_when_a_later_rule_hits_the_rate_limit() -> None:
    first, _ = _pages()
    first = {**first, "meta": {"newest_id": first["data"][0]["id"]}}

    def search(request: httpx.Request) -> httpx.Response:
        if request.url.params["query"] == "a":
            return httpx.Response(200, json=first, headers=_headers(remaining=1))
        return httpx.Response(429, json={"title": "Too Many Requests"}, headers=_headers(0, T + 300))

    fake = FakeX({"/2/tweets/search/recent": search})
    result = _collector(fake, queries={"ra": "a", "rb": "b"}).collect({"since_ids": {"ra": "1", "rb": "1"}})
    assert len(result.items) == 2 and result.state["since_ids"]["ra"] == first["data"][0]["id"]
    assert result.wait_seconds == (datetime.fromtimestamp(T + 300, UTC) - NOW).total_seconds()


def test_it_slows_polling_when_reads_run_ahead_of_the_month() -> None:
    first, _ = _pages()
    fake = FakeX({"/2/tweets/search/recent": lambda r: httpx.Response(200, json=first, headers=_headers())})
    budget = ReadBudget(monthly_limit=31_000)  # 1,000 a day; 10.5 days in, 10,500 (+620 burst) allowed
    on_pace = _collector(fake, budget=budget).collect({"reads": {"cycle": "2026-07-01", "used": 5_000}})
    assert on_pace.wait_seconds == 60.0 and len(fake.requests) == 1

    ahead = _collector(fake, budget=budget).collect({"reads": {"cycle": "2026-07-01", "used": 15_000}})
    assert len(fake.requests) == 1  # no read at all
    # 15,001 reads are the month's share on day (15,001 / 31,000 - 0.02) * 31 = 14.38: wait till then.
    expected = datetime(2026, 7, 1, tzinfo=UTC) + timedelta(days=31) * (15_001 / 31_000 - 0.02) - NOW
    assert ahead.wait_seconds == pytest.approx(expected.total_seconds(), abs=1)
    reads = next(q for q in ahead.quotas if q.name == "reads this month")
    assert (reads.used, reads.limit, reads.resets_at) == (15_000, 31_000, datetime(2026, 8, 1, tzinfo=UTC))


def test_it_asks_only_for_what_the_budget_allows_and_counts_posts_read() -> None:
    first, _ = _pages()
    fake = FakeX({"/2/tweets/search/recent": lambda r: httpx.Response(200, json=first, headers=_headers(400))})
    budget = ReadBudget(monthly_limit=31_000)
    result = _collector(fake, budget=budget).collect({"reads": {"cycle": "2026-07-01", "used": 11_100}})
    assert fake.requests[0].url.params["max_results"] == "20"  # 11,120 allowed so far
    assert result.state["reads"]["used"] == 11_100 + 2 + len(first["includes"]["tweets"])
    window = next(q for q in result.quotas if q.name == "requests (15 min)")
    assert (window.used, window.limit) == (50, 450)


def test_it_starts_a_new_count_when_the_billing_cycle_turns() -> None:
    fake = FakeX({"/2/tweets/search/recent": lambda r: httpx.Response(200, json={"meta": {"result_count": 0}})})
    result = _collector(fake).collect({"reads": {"cycle": "2026-06-01", "used": 999}})
    assert result.state["reads"] == {"cycle": "2026-07-01", "used": 0}


def test_it_quarantines_a_malformed_post_and_delivers_the_rest() -> None:
    first, _ = _pages()
    broken = copy.deepcopy(first)
    del broken["data"][1]["author_id"]
    fake = FakeX({"/2/tweets/search/recent": lambda r: httpx.Response(200, json=broken, headers=_headers())})
    result = _collector(fake).collect({})
    assert [type(i) for i in result.items] == [IncomingPost, PayloadError]
    assert "author_id" in str(result.items[1])
    assert json.loads(result.bad_payloads[0])["id"] == broken["data"][1]["id"]


def test_it_polls_our_mentions_with_pagination_token() -> None:
    first, second = _pages()

    def mentions(request: httpx.Request) -> httpx.Response:
        page = second if request.url.params.get("pagination_token") == "page2" else first
        return httpx.Response(200, json=page, headers=_headers())

    fake = FakeX({"/2/users/2244994945/mentions": mentions})
    result = _collector(fake, queries={}, user_id="2244994945").collect({"since_ids": {"@mentions": "5"}})
    assert len(result.items) == 4 and result.state["since_ids"] == {"@mentions": first["data"][0]["id"]}


# --- filtered stream ---------------------------------------------------------------------------


def _stream_line(index: int) -> bytes:
    doc = _search_page()
    post = dict(doc["data"][index])
    line = {"data": post, "includes": {"users": doc["includes"]["users"]}, "matching_rules": [{"id": "1", "tag": "r1"}]}
    return json.dumps(line, ensure_ascii=False).encode() + b"\r\n"


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.01
        return self.now


def _stream(fake: FakeX, **kwargs: Any) -> tuple[XStreamCollector, list[float]]:
    slept: list[float] = []
    kwargs.setdefault("max_seconds", 5.0)
    collector = XStreamCollector(
        fake.client(),
        bearer_token="app-token",
        clock=lambda: NOW,
        sleep=slept.append,
        monotonic=Ticker(),
        rng=random.Random(7),
        **kwargs,
    )
    return collector, slept


def test_it_reads_the_stream_skips_keep_alives_quarantines_bad_lines_and_reconnects() -> None:
    connections: list[list[bytes]] = [
        [b"\r\n", _stream_line(0), b"{not json\r\n", b"\r\n", _stream_line(1)],  # then the server drops us
        [_stream_line(1), _stream_line(2), b"\r\n"],  # backfill replays post 1
    ]

    def stream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter(connections.pop(0)), headers=_headers())

    fake = FakeX({"/2/tweets/search/stream": stream})
    collector, slept = _stream(fake, max_posts=3, backfill_minutes=2)
    result = collector.collect({})
    posts = [i.platform_post_id for i in result.items if isinstance(i, IncomingPost)]
    assert posts == [t["id"] for t in _search_page()["data"][:3]]
    assert [str(i) for i in result.items if isinstance(i, PayloadError)][0].startswith("stream line is not JSON")
    assert result.bad_payloads == ["{not json"]
    assert len(slept) == 1 and 0.5 <= slept[0] <= 1.0  # one network drop: about a second
    assert "backfill_minutes" not in fake.requests[0].url.params
    assert fake.requests[1].url.params["backfill_minutes"] == "2"
    assert fake.requests[0].url.params["expansions"] == "author_id,referenced_tweets.id"
    assert result.state["reads"]["used"] == 4 and result.state["failures"] == 0


def test_it_reconnects_when_x_announces_an_operational_disconnect() -> None:
    disconnect = (
        b'{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect"}]}\r\n'
    )
    connections = [[_stream_line(0), disconnect, _stream_line(3)], [_stream_line(1)]]

    def stream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter(connections.pop(0)))

    collector, slept = _stream(FakeX({"/2/tweets/search/stream": stream}), max_posts=2)
    result = collector.collect({})
    assert [i.platform_post_id for i in result.items if isinstance(i, IncomingPost)] == [
        _search_page()["data"][0]["id"],
        _search_page()["data"][1]["id"],
    ]
    assert result.bad_payloads == []


def test_it_raises_rate_limited_when_the_stream_refuses_a_connection() -> None:
    def too_many(request: httpx.Request) -> httpx.Response:
        body = {
            "title": "ConnectionException",
            "detail": "This stream is currently at the maximum allowed connection limit.",
        }
        return httpx.Response(429, json=body, headers=_headers(0, T + 120))

    collector, _ = _stream(FakeX({"/2/tweets/search/stream": too_many}))
    with pytest.raises(RateLimited) as caught:
        collector.collect({})
    assert caught.value.reset_at >= datetime.fromtimestamp(T + 120, UTC)


def test_it_stops_the_stream_when_the_month_budget_is_spent() -> None:
    fake = FakeX({"/2/tweets/search/stream": lambda r: httpx.Response(200, content=iter([_stream_line(0)]))})
    collector, _ = _stream(fake, budget=ReadBudget(monthly_limit=100))
    result = collector.collect({"reads": {"cycle": "2026-07-01", "used": 100}})
    assert fake.requests == [] and result.items == []
    assert result.wait_seconds == (datetime(2026, 8, 1, tzinfo=UTC) - NOW).total_seconds()


def test_it_reports_refused_credentials_as_auth_failed() -> None:
    refused = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    fake = FakeX({"/2/tweets/search/stream": lambda r: httpx.Response(401, json=refused)})
    collector, _ = _stream(fake)
    with pytest.raises(AuthFailed, match="401 Unauthorized"):
        collector.collect({})


# --- rules: translation and sync ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "(ポッキー OR pocky) -ポッキーゲーム lang:ja -is:repost",
            "(ポッキー OR ぽっきー OR pocky) -ポッキーゲーム lang:ja -is:retweet",
        ),
        ('"新作 ポッキー" has:link', '("新作 ポッキー" OR "新作 ぽっきー") has:links'),
        ("@pocky_jp #pocky", "@pocky_jp #pocky"),
        ("ポッキー (lang:ja OR lang:en)", "(ポッキー OR ぽっきー) (lang:ja OR lang:en)"),
        ("-(a b) c", "-(a b) c"),
        ("c++ -e-mail", '"c++" -"e-mail"'),
        ("ＰＯＣＫＹ", "(ＰＯＣＫＹ OR POCKY)"),
        ("ポッキー OR lang:ja", None),  # X refuses a lang: alternative on its own
        ("ポッキー from:pocky.bsky.social", None),  # not an X username
        ("ポッキー " + "x" * 600, None),  # longer than a stream rule may be
    ],
)
def test_it_translates_rules_to_x_syntax_where_they_translate(query: str, expected: str | None) -> None:
    assert to_x_rule(parse_rule("r", query)) == expected


def test_it_syncs_stream_rules_by_adding_and_deleting_the_difference() -> None:
    current = _load("x-docs-examples/streams/get_rules.json")
    posted: list[dict[str, Any]] = []

    def rules(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=current)
        body = json.loads(request.content)
        posted.append(body)
        if "add" in body:
            data = [{"id": str(100 + i), **rule} for i, rule in enumerate(body["add"]) if rule["tag"] != "bad"]
            errors = [{"value": r["value"], "title": "UnprocessableEntity"} for r in body["add"] if r["tag"] == "bad"]
            return httpx.Response(201, json={"data": data, "errors": errors, "meta": {}})
        return httpx.Response(200, json={"meta": {"summary": {"deleted": len(body["delete"]["ids"])}}})

    fake = FakeX({"/2/tweets/search/stream/rules": rules})
    keep = current["data"][0]
    wanted = {keep["tag"]: keep["value"], "r9": "ポッキー lang:ja", "bad": "((("}
    sync = sync_stream_rules(XApi(fake.client(), "app-token"), wanted)
    assert sync.unchanged == [keep["tag"]]
    assert posted[0] == {"delete": {"ids": [r["id"] for r in current["data"][1:]]}}
    assert posted[1] == {"add": [{"value": "ポッキー lang:ja", "tag": "r9"}, {"value": "(((", "tag": "bad"}]}
    assert sync.added == ["r9"] and sync.errors == {"bad": "UnprocessableEntity"}


# --- publisher ---------------------------------------------------------------------------------

TARGET = ReplyTarget(platform_post_id="1275882613572583424", author_handle="TwitterDev")


def _publisher(fake: FakeX, **kwargs: Any) -> XPublisher:
    tokens = kwargs.pop("tokens", {"access_token": "user-token"})
    return XPublisher(
        fake.client(), tokens=tokens, user_id="2244994945", username="KizunaDesk", clock=lambda: NOW, **kwargs
    )


def _created(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json=_load("x-docs-examples/apis/tweet/create_tweet_resp.json"))


def test_it_replies_with_in_reply_to_tweet_id() -> None:
    fake = FakeX({"/2/tweets": _created})
    published = _publisher(fake).publish(text="ありがとうございます！", target=TARGET, idempotency_key="k1")
    assert json.loads(fake.requests[0].content) == {
        "text": "ありがとうございます！",
        "reply": {"in_reply_to_tweet_id": "1275882613572583424"},
    }
    assert fake.requests[0].headers["Authorization"] == "Bearer user-token"
    assert published.platform_post_id == "1445880548472328192"
    assert published.url == "https://x.com/KizunaDesk/status/1445880548472328192"


def _our_timeline(request: httpx.Request) -> httpx.Response:
    ours = [
        {"id": "1500000000000000001", "text": "別の返信", "referenced_tweets": [{"type": "replied_to", "id": "9"}]},
        {
            "id": "1500000000000000002",
            "text": "ご案内です &amp; 詳しくは https://t.co/AbCdEf",
            "referenced_tweets": [{"type": "replied_to", "id": TARGET.platform_post_id}],
        },
    ]
    return httpx.Response(200, json={"data": ours, "meta": {"result_count": 2}})


def test_it_reconciles_by_finding_an_already_posted_reply() -> None:
    fake = FakeX({"/2/users/2244994945/tweets": _our_timeline, "/2/tweets": _created})
    publisher = _publisher(fake)
    text = "ご案内です & 詳しくは https://example.com/help"
    found = publisher.find_published(text=text, target=TARGET, idempotency_key="k1")
    assert found is not None and found.platform_post_id == "1500000000000000002"
    assert [r.url.path for r in fake.requests] == ["/2/users/2244994945/tweets"]  # nothing posted
    assert publisher.find_published(text="違う文面", target=TARGET, idempotency_key="k1") is None


def test_it_returns_the_first_post_when_x_refuses_a_duplicate() -> None:
    duplicate = {"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403}
    fake = FakeX(
        {"/2/tweets": lambda r: httpx.Response(403, json=duplicate), "/2/users/2244994945/tweets": _our_timeline}
    )
    text = "ご案内です & 詳しくは https://example.com/help"
    published = _publisher(fake).publish(text=text, target=TARGET, idempotency_key="k1")
    assert published.platform_post_id == "1500000000000000002"


def test_it_renews_an_expired_user_token_and_keeps_the_new_pair() -> None:
    def tweets(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] != "Bearer fresh":
            return httpx.Response(401, json={"title": "Unauthorized", "status": 401})
        return _created(request)

    def token(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        assert form == {"grant_type": "refresh_token", "refresh_token": "r1", "client_id": "cid"}
        return httpx.Response(200, json={"access_token": "fresh", "refresh_token": "r2", "expires_in": 7200})

    fake = FakeX({"/2/tweets": tweets, "/2/oauth2/token": token})
    publisher = _publisher(fake, tokens={"access_token": "stale", "refresh_token": "r1"}, client_id="cid")
    publisher.publish(text="こんにちは", target=TARGET, idempotency_key="k1")
    assert publisher.tokens["access_token"] == "fresh" and publisher.tokens["refresh_token"] == "r2"
    assert publisher.tokens["expires_at"] == (NOW + timedelta(hours=2)).isoformat()


def test_it_says_auth_failed_when_no_token_can_be_renewed() -> None:
    fake = FakeX({"/2/tweets": lambda r: httpx.Response(401, json={"title": "Unauthorized"})})
    with pytest.raises(AuthFailed):
        _publisher(fake).publish(text="こんにちは", target=TARGET, idempotency_key="k1")
