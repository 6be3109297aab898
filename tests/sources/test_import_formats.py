"""`kizuna import --format` over the recorded real payloads in ../shared/fixtures."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from kizuna.pipeline.models import QuarantinedPayload
from kizuna.sources.models import Post
from tests.conftest import SHARED, Cast

FIXTURES = SHARED / "fixtures"
pytestmark = pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures is not beside the checkout")


def _import(path: Path, fmt: str) -> str:
    out = io.StringIO()
    call_command(
        "import",
        str(path),
        "--format",
        fmt,
        "--workspace",
        "hidamari",
        "--no-progress",
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


def test_it_imports_the_production_jetstream_events(cast: Cast) -> None:
    path = FIXTURES / "bluesky" / "jetstream" / "expected_v1.jsonl"
    assert "17 new, 0 duplicate, 0 quarantined, 135 not posts" in _import(path, "jetstream")
    assert "0 new, 17 duplicate, 0 quarantined, 135 not posts" in _import(path, "jetstream")
    post = Post.objects.filter(platform="bluesky").exclude(in_reply_to="").first()
    assert post is not None and post.platform_post_id.startswith("at://did:")


def test_it_imports_x_search_responses_and_quarantines_posts_without_authors(cast: Cast) -> None:
    search = FIXTURES / "x" / "x-docs-examples" / "apis" / "searches" / "search_tweets_query.json"
    assert _import(search, "x").startswith("4 new, 0 duplicate, 0 quarantined")
    cassette = FIXTURES / "x" / "tweepy" / "test_client_search_recent_tweets.json"
    assert "10 quarantined" in _import(cassette, "x")
    reason = QuarantinedPayload.objects.first()
    assert reason is not None and "expansions=author_id" in reason.reason


def test_it_skips_x_responses_that_hold_no_posts(cast: Cast) -> None:
    user = FIXTURES / "x" / "x-docs-examples" / "apis" / "user" / "user_resp.json"
    assert "0 new, 0 duplicate, 0 quarantined, 1 not posts" in _import(user, "x")


def test_it_imports_mastodon_statuses_and_streams(cast: Cast) -> None:
    assert _import(FIXTURES / "mastodon" / "test_status.json", "mastodon").startswith("1 new")
    assert _import(FIXTURES / "mastodon" / "test_stream_user_local.sse.txt", "mastodon").startswith("1 new")
    assert Post.objects.filter(platform="mastodon").count() == 2


def test_it_imports_an_rss_feed(cast: Cast, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>おやつブログ</title>
        <link>https://blog.example.jp/</link>
        <item><title>サクッと抹茶味レビュー</title><link>https://blog.example.jp/1</link>
        <guid>https://blog.example.jp/1</guid><pubDate>Sat, 21 Nov 2026 10:00:00 +0900</pubDate>
        <description>サクッとの抹茶味、甘さ控えめで最高でした</description></item></channel></rss>""",
        encoding="utf-8",
    )
    assert _import(feed, "rss").startswith("1 new")
    post = Post.objects.get(platform="rss")
    assert post.case is not None and post.url == "https://blog.example.jp/1"
