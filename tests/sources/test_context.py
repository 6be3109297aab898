"""Fetching a case's thread and the author's posts from the platform (faked at the HTTP seam)."""

from __future__ import annotations

import httpx
import pytest
from django.urls import reverse

from kizuna.inbox.models import AuditEvent, Case
from kizuna.pipeline.ingest import ingest
from kizuna.sources import registry
from kizuna.sources.models import Platform, Post, Source
from tests.conftest import Cast, make_post


def _status(status_id: str, text: str, acct: str, reply_to: str | None = None) -> dict[str, object]:
    return {
        "id": status_id,
        "created_at": "2026-11-20T08:00:00.000Z",
        "in_reply_to_id": reply_to,
        "content": f"<p>{text}</p>",
        "url": f"https://m.example/@{acct}/{status_id}",
        "language": "ja",
        "reblog": None,
        "spoiler_text": "",
        "account": {
            "id": "7",
            "acct": acct,
            "display_name": acct,
            "followers_count": 12,
            "url": f"https://m.example/@{acct}",
        },
    }


@pytest.fixture
def fake_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/api/v1/statuses/300/context":
            return httpx.Response(
                200,
                json={
                    "ancestors": [_status("299", "昨日ひだまりアプリ更新した", "mika")],
                    "descendants": [_status("301", "うちもログインできない!", "other", "300")],
                },
            )
        if request.url.path == "/2/tweets/500":
            return httpx.Response(
                200,
                json={
                    "data": {
                        "id": "500",
                        "text": "サクッとの袋が開かない",
                        "author_id": "9",
                        "conversation_id": "500",
                        "created_at": "2026-11-20T08:00:00.000Z",
                    },
                    "includes": {
                        "users": [
                            {"id": "9", "username": "mika_x", "name": "Mika", "public_metrics": {"followers_count": 3}}
                        ]
                    },
                },
            )
        if request.url.path in ("/2/tweets/search/recent", "/2/users/9/tweets"):
            return httpx.Response(
                200,
                json={
                    "data": [
                        {
                            "id": "501",
                            "text": "ハサミ使ったらいけた",
                            "author_id": "9",
                            "conversation_id": "500",
                            "created_at": "2026-11-20T08:05:00.000Z",
                            "referenced_tweets": [{"type": "replied_to", "id": "500"}],
                        }
                    ],
                    "includes": {
                        "users": [
                            {"id": "9", "username": "mika_x", "name": "Mika", "public_metrics": {"followers_count": 3}}
                        ]
                    },
                    "meta": {"result_count": 1},
                },
            )
        return httpx.Response(404, json={})

    monkeypatch.setattr(registry, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(handler)))
    return seen


def _source(cast: Cast, platform: str, **settings: str) -> Source:
    source = Source.objects.create(workspace=cast.ws, platform=platform, name=platform, settings=settings)
    source.set_credentials({"access_token": "t", "bearer_token": "b"})
    source.save()
    return source


def test_it_fetches_a_mastodon_thread_into_the_conversation(cast: Cast, fake_network: list[str]) -> None:
    source = _source(cast, Platform.MASTODON, base_url="https://m.example")
    result = ingest(
        cast.ws,
        make_post(
            "ひだまりアプリにログインできない",
            platform="mastodon",
            post_id="300",
            author="mika@m.example",
            thread_id="300",
        ),
        source=source,
    )
    case = Case.objects.get(pk=result.case_id)
    resp = cast.client(cast.alice).post(reverse("inbox:context", args=["hidamari", case.pk]), follow=True)
    page = resp.content.decode()
    assert "うちもログインできない" in page  # another person's reply in the thread
    assert Post.objects.filter(platform="mastodon").count() == 3
    assert AuditEvent.objects.get(verb="case.context_fetched").data["new"] == 2


def test_it_fetches_an_x_conversation_and_the_authors_posts(cast: Cast, fake_network: list[str]) -> None:
    source = _source(cast, Platform.X)
    incoming = make_post(
        "サクッとの袋が開かない",
        platform="x",
        post_id="500",
        author="mika_x",
        thread_id="500",
        raw={"data": {"id": "500", "author_id": "9"}},
    )
    case = Case.objects.get(pk=ingest(cast.ws, incoming, source=source).case_id)
    cast.client(cast.alice).post(reverse("inbox:context", args=["hidamari", case.pk]))
    assert {"/2/tweets/500", "/2/tweets/search/recent", "/2/users/9/tweets"} <= set(fake_network)
    reply = Post.objects.get(platform_post_id="501")
    assert reply.case_id == case.pk  # the author's own follow-up joins the case


def test_it_denies_context_fetching_to_viewers_and_other_tenants(cast: Cast) -> None:
    case = Case.objects.get(pk=ingest(cast.ws, make_post("サクッと割れてた")).case_id)
    url = reverse("inbox:context", args=["hidamari", case.pk])
    assert cast.client(cast.vera).post(url).status_code == 403
    assert cast.client(cast.charlie).post(url).status_code == 404
    assert cast.client(cast.alice).get(url).status_code == 405
