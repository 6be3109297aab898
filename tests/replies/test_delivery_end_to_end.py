"""A reply written in the UI goes out through a real platform publisher (Mastodon, faked at the
HTTP seam): the composer, the outbox and the publisher together, crash included."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from kizuna.inbox.models import CaseStatus
from kizuna.replies.models import Reply, ReplyStatus
from kizuna.replies.outbox import LEASE, process_one_reply
from kizuna.sources import registry
from kizuna.sources.models import Platform, Source
from tests.conftest import Cast
from tests.replies.conftest import SIGNED, open_case


class FakeMastodon:
    """An instance that stores statuses and honours Idempotency-Key, like the real one."""

    def __init__(self) -> None:
        self.statuses: list[dict[str, object]] = []
        self.by_key: dict[str, dict[str, object]] = {}
        self.posts_received = 0
        self.drop_next_response = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": (timezone.now() + timedelta(minutes=5)).isoformat(),
        }
        if request.method == "POST" and request.url.path == "/api/v1/statuses":
            self.posts_received += 1
            key = request.headers["Idempotency-Key"]
            if key not in self.by_key:
                body = json.loads(request.content)
                status = {
                    "id": str(9000 + len(self.statuses)),
                    "in_reply_to_id": body["in_reply_to_id"],
                    "content": f"<p>{body['status']}</p>",
                    "url": f"https://m.example/@us/{9000 + len(self.statuses)}",
                }
                self.statuses.append(status)
                self.by_key[key] = status
            if self.drop_next_response:  # the status exists, but our worker dies before reading the answer
                self.drop_next_response = False
                raise httpx.ReadError("connection reset after the status was created")
            return httpx.Response(200, json=self.by_key[key], headers=headers)
        if request.url.path == "/api/v1/accounts/verify_credentials":
            return httpx.Response(200, json={"id": "1", "acct": "hidamari_support"}, headers=headers)
        if request.url.path == "/api/v1/accounts/1/statuses":
            return httpx.Response(200, json=self.statuses, headers=headers)
        return httpx.Response(404, json={"error": "not found"}, headers=headers)


@pytest.fixture
def mastodon(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeMastodon, Source]:
    fake = FakeMastodon()
    monkeypatch.setattr(registry, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(fake.handler)))
    source = Source.objects.create(
        workspace=cast.ws,
        platform=Platform.MASTODON,
        name="Mastodon",
        handle="hidamari_support",
        settings={"base_url": "https://m.example"},
    )
    source.set_credentials({"access_token": "tok"})
    source.save()
    return fake, source


def test_it_publishes_a_reply_written_in_the_ui(cast: Cast, mastodon: tuple[FakeMastodon, Source]) -> None:
    fake, source = mastodon
    case = open_case(cast, "ひだまりアプリにログインできない", source=source, platform="mastodon", post_id="111")
    resp = cast.client(cast.alice).post(reverse("replies:reply", args=["hidamari", case.pk]), {"text": SIGNED})
    assert resp.status_code == 302
    reply = Reply.objects.get()
    assert reply.status == ReplyStatus.QUEUED
    assert process_one_reply()
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT and reply.platform_url.startswith("https://m.example/")
    assert fake.statuses[0]["in_reply_to_id"] == "111"
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING
    page = cast.client(cast.alice).get(reverse("inbox:case", args=["hidamari", case.pk])).content.decode()
    assert "送信済み" in page


def test_it_never_posts_twice_when_the_worker_dies_mid_send(cast: Cast, mastodon: tuple[FakeMastodon, Source]) -> None:
    fake, source = mastodon
    case = open_case(cast, "ひだまりアプリにログインできない", source=source, platform="mastodon", post_id="222")
    cast.client(cast.alice).post(reverse("replies:reply", args=["hidamari", case.pk]), {"text": SIGNED})
    fake.drop_next_response = True
    process_one_reply()  # the network error is retryable: requeued with a backoff
    reply = Reply.objects.get()
    assert reply.status == ReplyStatus.QUEUED and len(fake.statuses) == 1
    Reply.objects.filter(pk=reply.pk).update(next_attempt_at=timezone.now() - LEASE)
    process_one_reply()
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT and len(fake.statuses) == 1
    assert reply.platform_post_id == fake.statuses[0]["id"]
    assert fake.posts_received == 1  # reconciled by reading our statuses, not by posting again
