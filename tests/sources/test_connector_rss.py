"""RSS/Atom collector and the by-hand publisher, against a fake blog at the httpx transport."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.sources.base import ConnectorError, ReplyTarget
from kizuna.sources.rss.connector import RssCollector
from kizuna.sources.rss.publisher import RssPublisher, entry_link

NOW = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)
BLOG = "https://note.com/hidamari_cafe/rss"
NEWS = "https://news.example.jp/search.atom?q=%E3%83%9D%E3%83%83%E3%82%AD%E3%83%BC"
Handler = Callable[[httpx.Request], httpx.Response]

ITEM = """<item>
  <title>{title}</title>
  <link>https://note.com/hidamari_cafe/n/{slug}</link>
  <guid isPermaLink="false">{slug}</guid>
  <description><![CDATA[<p>{body}</p>]]></description>
  <pubDate>Mon, 01 Jan 2024 09:30:00 JST</pubDate>
</item>"""


def _rss(*items: tuple[str, str, str]) -> bytes:
    entries = "".join(ITEM.format(slug=slug, title=title, body=body) for slug, title, body in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>ひだまりカフェ日記</title><link>https://note.com/hidamari_cafe</link>
<language>ja</language>{entries}</channel></rss>""".encode()


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ja">
  <title>News search</title><link rel="alternate" href="https://news.example.jp/"/>
  <updated>2024-01-02T00:00:00Z</updated><id>tag:news.example.jp,2024:search</id>
  <entry><title>Pocky recall?</title><link rel="alternate" href="/articles/42"/>
    <id>tag:news.example.jp,2024:42</id><published>2024-01-02T09:00:00+09:00</published>
    <summary>Rumours of a recall.</summary><author><name>Desk</name></author></entry>
</feed>"""

FIRST = ("n1a2b3c", "サクッとポテトが湿気ってた…", "開けたら湿気ってました。")
SECOND = ("n4d5e6f", "お礼の返信が来た", "サポートの鈴木さん、ありがとうございました☆")


class FakeWeb:
    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.routes[str(request.url)](request)

    def collector(self, *feeds: str) -> RssCollector:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return RssCollector(http, feeds=list(feeds), clock=lambda: NOW, rng=random.Random(1))


def _conditional(body: bytes, etag: str, modified: str = "Tue, 02 Jan 2024 01:00:00 GMT") -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == etag:
            return httpx.Response(304)
        return httpx.Response(200, content=body, headers={"ETag": etag, "Last-Modified": modified})

    return handler


def _ids(items: list[IncomingPost | PayloadError]) -> list[str]:
    return [item.platform_post_id for item in items if isinstance(item, IncomingPost)]


def test_it_turns_entries_into_posts_and_sends_etag_and_last_modified_next_time() -> None:
    fake = FakeWeb({BLOG: _conditional(_rss(FIRST, SECOND), '"v1"')})
    collector = fake.collector(BLOG)
    first = collector.collect({})
    assert _ids(first.items) == [f"{BLOG}#n1a2b3c", f"{BLOG}#n4d5e6f"]
    assert first.state["feeds"][BLOG]["etag"] == '"v1"'
    assert first.wait_seconds == 900.0

    second = collector.collect(first.state)
    assert second.items == []  # 304: nothing new
    assert fake.requests[1].headers["If-None-Match"] == '"v1"'
    assert fake.requests[1].headers["If-Modified-Since"] == "Tue, 02 Jan 2024 01:00:00 GMT"
    assert second.state["feeds"][BLOG]["seen"] == first.state["feeds"][BLOG]["seen"]


def test_it_sends_only_new_entries_when_a_feed_changes() -> None:
    bodies = [_rss(FIRST), _rss(SECOND, FIRST)]
    fake = FakeWeb({BLOG: lambda r: httpx.Response(200, content=bodies.pop(0))})
    collector = fake.collector(BLOG)
    first = collector.collect({})
    second = collector.collect(first.state)
    assert _ids(first.items) == [f"{BLOG}#n1a2b3c"] and _ids(second.items) == [f"{BLOG}#n4d5e6f"]


def test_it_reads_atom_search_feeds_with_relative_links() -> None:
    fake = FakeWeb({NEWS: lambda r: httpx.Response(200, content=ATOM)})
    result = fake.collector(NEWS).collect({})
    post = result.items[0]
    assert isinstance(post, IncomingPost)
    assert post.url == "https://news.example.jp/articles/42" and post.author_handle == "news.example.jp"


def test_it_quarantines_a_bad_entry_and_delivers_the_rest() -> None:
    body = _rss(FIRST).replace(b"</channel>", b"<item><title></title><guid>x</guid></item></channel>")
    fake = FakeWeb({BLOG: lambda r: httpx.Response(200, content=body)})
    result = fake.collector(BLOG).collect({})
    assert [type(i) for i in result.items] == [IncomingPost, PayloadError]
    assert "neither a title nor a summary" in str(result.items[1])
    assert result.bad_payloads[0].startswith("<?xml")


def test_it_quarantines_a_feed_that_is_not_xml() -> None:
    fake = FakeWeb({BLOG: lambda r: httpx.Response(200, content=b"<html><body>Moved")})
    result = fake.collector(BLOG).collect({})
    assert len(result.items) == 1 and "not well-formed XML" in str(result.items[0])


def test_it_backs_off_a_failing_feed_while_the_others_go_on() -> None:
    gone = FakeWeb(
        {
            BLOG: lambda r: httpx.Response(503, headers={"Retry-After": "3600"}),
            NEWS: lambda r: httpx.Response(200, content=ATOM),
        }
    )
    collector = gone.collector(BLOG, NEWS)
    result = collector.collect({})
    assert len(_ids(result.items)) == 1
    blog = result.state["feeds"][BLOG]
    assert blog["failures"] == 1 and "503" in blog["error"]
    assert datetime.fromisoformat(blog["retry_at"]) == NOW + timedelta(hours=1)  # the blog's Retry-After
    collector.collect(result.state)
    assert [str(r.url) for r in gone.requests] == [BLOG, NEWS, NEWS]  # the blog is left alone until then


def test_it_raises_when_every_feed_fails() -> None:
    fake = FakeWeb({BLOG: lambda r: httpx.Response(404)})
    with pytest.raises(ConnectorError, match="the feed is gone"):
        fake.collector(BLOG).collect({})


def test_it_describes_the_feeds_when_testing_the_connection() -> None:
    fake = FakeWeb({BLOG: lambda r: httpx.Response(200, content=_rss(FIRST, SECOND))})
    assert fake.collector(BLOG).test_connection() == "Feeds: ひだまりカフェ日記 (2 entries)"


def test_it_publishes_nothing_and_points_at_the_entry_to_reply_by_hand() -> None:
    fake = FakeWeb(
        {BLOG: lambda r: httpx.Response(200, content=_rss(FIRST)), NEWS: lambda r: httpx.Response(200, content=ATOM)}
    )
    blog_post, news_post = fake.collector(BLOG, NEWS).collect({}).items
    assert isinstance(blog_post, IncomingPost) and isinstance(news_post, IncomingPost)
    publisher = RssPublisher()
    for post, link in (
        (blog_post, "https://note.com/hidamari_cafe/n/n1a2b3c"),
        (news_post, "https://news.example.jp/articles/42"),
    ):
        target = ReplyTarget(platform_post_id=post.platform_post_id, author_handle=post.author_handle, raw=post.raw)
        published = publisher.publish(text="コメントしました", target=target, idempotency_key="outbox-7")
        assert published.url == link == entry_link(target)
        assert published.platform_post_id == "by-hand:outbox-7"
        assert publisher.find_published(text="x", target=target, idempotency_key="outbox-7") is None
    assert RssPublisher.replied_by_hand is True
    assert len(fake.requests) == 2  # publishing fetched nothing
