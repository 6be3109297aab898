from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from kizuna.accounts.actions import do_create_user
from kizuna.accounts.models import Role
from kizuna.core.posts import PayloadError
from kizuna.inbox.models import AuditEvent, Case
from kizuna.pipeline.models import QuarantinedPayload
from kizuna.sources import registry
from kizuna.sources.base import AuthFailed, CollectResult, Quota, RateLimited
from kizuna.sources.models import Platform, Source
from kizuna.sources.registry import Connection
from kizuna.sources.webhook.verify import sign
from kizuna.sources.worker import poll_source
from tests.conftest import PASSWORD, Cast, make_post


@pytest.fixture
def admin(cast: Cast) -> Client:
    user = do_create_user(username="ada", password=PASSWORD, workspace=cast.ws, role=Role.ADMIN, display_name="管理")
    c = Client()
    c.force_login(user)
    return c


def u(name: str, *args: object) -> str:
    return reverse(name, args=["hidamari", *args])


def test_it_stores_credentials_encrypted_and_never_shows_them(cast: Cast, admin: Client) -> None:
    admin.post(u("sources:list"), {"platform": "x", "name": "X 公式", "handle": "@hidamari_support"})
    source = Source.objects.get(platform="x")
    admin.post(
        u("sources:detail", source.pk),
        {"bearer_token": "AAAA-very-secret", "user_id": "42", "monthly_read_budget": "10000", "enabled": "on"},
    )
    source.refresh_from_db()
    assert source.get_credentials()["bearer_token"] == "AAAA-very-secret"
    assert "very-secret" not in source.credentials_encrypted
    assert source.settings["monthly_read_budget"] == "10000" and source.enabled
    page = admin.get(u("sources:detail", source.pk)).content.decode()
    assert "very-secret" not in page
    assert 'type="password" name="bearer_token" autocomplete="new-password" placeholder="(' in page
    # Saving again with the secret left blank keeps it.
    admin.post(u("sources:detail", source.pk), {"bearer_token": "", "user_id": "42", "enabled": "on"})
    source.refresh_from_db()
    assert source.get_credentials()["bearer_token"] == "AAAA-very-secret"
    event = AuditEvent.objects.filter(verb="source.configured").first()
    assert event is not None and "very-secret" not in json.dumps(event.data)


def test_it_tests_the_connection_through_the_platform(
    cast: Cast, admin: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_http() -> httpx.Client:
        def handler(request: httpx.Request) -> httpx.Response:
            assert request.headers["Authorization"] == "Bearer token-1"
            return httpx.Response(
                200,
                json={"data": [], "meta": {"result_count": 0}},
                headers={
                    "x-rate-limit-remaining": "449",
                    "x-rate-limit-limit": "450",
                    "x-rate-limit-reset": str(int(time.time()) + 900),
                },
            )

        return httpx.Client(transport=httpx.MockTransport(handler))

    monkeypatch.setattr(registry, "http_client", fake_http)
    source = Source.objects.create(workspace=cast.ws, platform=Platform.X, name="X")
    source.set_credentials({"bearer_token": "token-1"})
    source.save()
    resp = admin.post(u("sources:test", source.pk), follow=True)
    assert "接続" in resp.content.decode() or "Connected" in resp.content.decode()
    assert AuditEvent.objects.filter(verb="source.test_ok").exists()


def test_it_lets_supervisors_see_health_but_not_change_sources(cast: Cast) -> None:
    source = Source.objects.create(workspace=cast.ws, platform=Platform.RSS, name="ブログ")
    bob = cast.client(cast.bob)
    assert bob.get(u("sources:list")).status_code == 200
    assert bob.post(u("sources:detail", source.pk), {"feeds": "https://evil.example/feed"}).status_code == 403
    assert bob.post(u("sources:list"), {"platform": "rss", "name": "x"}).status_code == 403
    assert cast.client(cast.alice).get(u("sources:list")).status_code == 403
    assert cast.client(cast.charlie).get(u("sources:detail", source.pk)).status_code == 404


class FakeCollector:
    def __init__(self, result: CollectResult | Exception) -> None:
        self.result = result

    def collect(self, state: dict[str, object]) -> CollectResult:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result

    def test_connection(self) -> str:
        return "fake"


def test_it_ingests_a_poll_and_keeps_health(cast: Cast) -> None:
    source = Source.objects.create(workspace=cast.ws, platform=Platform.X, name="X", enabled=True)
    result = CollectResult(
        items=[make_post("サクッと美味しい", platform="x", post_id="x1"), PayloadError('"data[1].text" is missing')],
        bad_payloads=['{"id": "x2"}'],
        state={"since_ids": {"sakutto": "x1"}},
        quotas=[Quota("reads this month", 120, 10000, datetime(2026, 12, 1, tzinfo=UTC))],
        wait_seconds=60,
    )
    wait = poll_source(source, Connection(source, collector=FakeCollector(result)))  # type: ignore[arg-type]
    assert wait == 60
    source.refresh_from_db()
    assert source.connected and source.state == {"since_ids": {"sakutto": "x1"}}
    assert source.quotas[0]["used"] == 120 and source.quotas[0]["limit"] == 10000
    assert Case.objects.count() == 1
    held = QuarantinedPayload.objects.get()
    assert held.payload == '{"id": "x2"}' and "text" in held.reason


def test_it_records_rate_limits_and_refused_credentials(cast: Cast) -> None:
    source = Source.objects.create(workspace=cast.ws, platform=Platform.X, name="X", enabled=True)
    limited = RateLimited("429", reset_at=datetime(2030, 1, 1, tzinfo=UTC))
    poll_source(source, Connection(source, collector=FakeCollector(limited)))  # type: ignore[arg-type]
    source.refresh_from_db()
    assert "rate limited" in source.last_error and source.enabled and source.errors
    poll_source(source, Connection(source, collector=FakeCollector(AuthFailed("401 Unauthorized"))))  # type: ignore[arg-type]
    source.refresh_from_db()
    assert not source.enabled and "credentials refused" in source.last_error
    assert len(source.errors) == 2


def _webhook(cast: Cast, admin: Client) -> tuple[Source, str]:
    admin.post(u("sources:list"), {"platform": "webhook", "name": "フォーム連携"})
    source = Source.objects.get(platform="webhook")
    page = admin.get(u("sources:detail", source.pk)).content.decode()
    secret = source.get_credentials()["secret"]
    assert secret in page  # shown once, right after creation
    assert secret not in admin.get(u("sources:detail", source.pk)).content.decode()
    return source, secret


def _post(source: Source, body: bytes, secret: str, ts: int | None = None) -> httpx.Response:
    ts = ts or int(time.time())
    return Client().post(
        f"/hooks/{source.pk}/",
        data=body,
        content_type="application/json",
        headers={"X-Kizuna-Timestamp": str(ts), "X-Kizuna-Signature": sign(secret, ts, body)},
    )


def test_it_accepts_signed_webhook_posts(cast: Cast, admin: Client) -> None:
    source, secret = _webhook(cast, admin)
    body = json.dumps(
        [
            {"id": "w1", "text": "サクッと最高", "author": "form_user", "created_at": "2026-11-20T09:00:00Z"},
            {"id": "w2", "author": "x", "created_at": "2026-11-20T09:00:00Z"},
        ]
    ).encode()
    resp = _post(source, body, secret)
    data = json.loads(resp.content)
    assert resp.status_code == 207 and data["new"] == 1 and data["quarantined"] == 1
    assert "text" in data["errors"][0]["reason"]
    assert json.loads(_post(source, body, secret).content)["duplicate"] == 1


def test_it_refuses_unsigned_and_replayed_webhooks(cast: Cast, admin: Client) -> None:
    source, secret = _webhook(cast, admin)
    body = b'{"id": "w1", "text": "x", "author": "a", "created_at": "2026-11-20T09:00:00Z"}'
    assert _post(source, body, "wrong-secret").status_code == 401
    assert _post(source, body, secret, ts=int(time.time()) - 3600).status_code == 401
    plain = Client().post(f"/hooks/{source.pk}/", data=body, content_type="application/json")
    assert plain.status_code == 401 and b"missing" in plain.content


def test_it_searches_mastodon_with_each_rules_first_term(cast: Cast) -> None:
    from kizuna.sources.mastodon.connector import MastodonSearchCollector
    from kizuna.sources.worker import connection_for_collecting

    source = Source.objects.create(
        workspace=cast.ws,
        platform=Platform.MASTODON,
        name="m",
        settings={"base_url": "https://m.example", "stream": "search"},
    )
    source.set_credentials({"access_token": "t"})
    collector = connection_for_collecting(source).collector
    assert isinstance(collector, MastodonSearchCollector)
    assert collector.queries["sakutto"] == "サクッと" and collector.queries["hidamari-shop"] == "ひだまりマルシェ"


def test_it_treats_our_bluesky_did_as_our_own_account(cast: Cast) -> None:
    from kizuna.pipeline.ingest import ingest

    source = Source.objects.create(
        workspace=cast.ws, platform=Platform.BLUESKY, name="b", settings={"did": "did:plc:ourdesk"}
    )
    result = ingest(
        cast.ws, make_post("サクッとの新味が出ました", platform="bluesky", author="did:plc:ourdesk"), source=source
    )
    assert result.case_id is None


def test_it_syncs_our_rules_to_the_x_filtered_stream(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    from kizuna.sources.worker import connection_for_collecting

    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"data": [{"id": "1", "value": "old", "tag": "gone"}]})
        body = json.loads(request.content)
        bodies.append(body)
        added = [{"id": str(n), "value": r["value"], "tag": r["tag"]} for n, r in enumerate(body.get("add", []))]
        return httpx.Response(200, json={"data": added})

    monkeypatch.setattr(registry, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(handler)))
    source = Source.objects.create(workspace=cast.ws, platform=Platform.X, name="X", settings={"mode": "stream"})
    source.set_credentials({"bearer_token": "b"})
    connection_for_collecting(source)
    assert bodies[0] == {"delete": {"ids": ["1"]}}
    tags = {rule["tag"] for rule in bodies[1]["add"]}  # type: ignore[union-attr]
    assert {"sakutto", "sakutto-flavours", "hidamari-stores"} <= tags
