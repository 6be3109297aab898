"""RSS 2.0, RSS 1.0 and Atom parser, driven by sample feeds written here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.posts import MAX_TEXT_CHARS, IncomingPost, PayloadError
from kizuna.sources.rss.parser import MAX_FEED_BYTES, parse_feed

JST = timezone(timedelta(hours=9))
FEED_URL = "https://note.com/hidamari_cafe/rss"

RSS2 = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>ひだまりカフェ日記</title>
    <link>https://note.com/hidamari_cafe</link>
    <language>ja</language>
    <lastBuildDate>Tue, 02 Jan 2024 10:00:00 +0900</lastBuildDate>
    <item>
      <title>サクッとポテトが湿気ってた…</title>
      <link>https://note.com/hidamari_cafe/n/n1a2b3c</link>
      <guid isPermaLink="false">1a2b3c</guid>
      <description><![CDATA[<p>昨日買った<b>サクッとポテト</b>、開けたら湿気ってました。</p><p>賞味期限内なのに &amp; 残念。</p>]]></description>
      <pubDate>Mon, 01 Jan 2024 09:30:00 JST</pubDate>
      <dc:creator>みさき</dc:creator>
    </item>
    <item>
      <title>お礼の返信が来た</title>
      <link>https://note.com/hidamari_cafe/n/n4d5e6f</link>
      <guid>https://note.com/hidamari_cafe/n/n4d5e6f</guid>
      <content:encoded><![CDATA[<p>サポートの鈴木さん、ありがとうございました☆</p>]]></content:encoded>
      <author>misaki@example.jp (Misaki)</author>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title type="html">Hidamari &amp;lt;Support&amp;gt; Blog</title>
  <link rel="alternate" href="https://blog.example.com/"/>
  <link rel="self" href="https://blog.example.com/feed.atom"/>
  <updated>2024-02-01T00:00:00Z</updated>
  <author><name>Hidamari Team</name></author>
  <id>tag:blog.example.com,2024:feed</id>
  <entry>
    <title>Crunchy chips, soft bag</title>
    <link rel="alternate" href="/2024/02/soft-bag"/>
    <id>tag:blog.example.com,2024:1</id>
    <published>2024-02-01T12:00:00+09:00</published>
    <updated>2024-02-02T12:00:00+09:00</updated>
    <summary type="html">&lt;p&gt;The bag was &lt;em&gt;soft&lt;/em&gt;.&lt;/p&gt;&lt;p&gt;Again.&lt;/p&gt;</summary>
    <author><name>Jane</name></author>
  </entry>
  <entry xml:lang="ja">
    <title type="text">更新だけの記事</title>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2024-02-03T08:00:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>とても<b>美味しい</b></p></div></content>
  </entry>
</feed>
"""

RSS1 = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns="http://purl.org/rss/1.0/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://b.hatena.ne.jp/q/sakutto">
    <title>はてなブックマーク - サクッと</title>
    <link>https://b.hatena.ne.jp/q/sakutto</link>
    <dc:language>ja</dc:language>
  </channel>
  <item rdf:about="https://example.jp/review/sakutto">
    <title>サクッとポテト レビュー</title>
    <link>https://example.jp/review/sakutto</link>
    <description>塩加減がちょうどいい</description>
    <dc:creator>taro</dc:creator>
    <dc:date>2024-03-01T10:00:00+09:00</dc:date>
  </item>
</rdf:RDF>
"""


def _posts(results: list[IncomingPost | PayloadError]) -> list[IncomingPost]:
    assert all(isinstance(r, IncomingPost) for r in results), results
    return [r for r in results if isinstance(r, IncomingPost)]


def _only_error(results: list[IncomingPost | PayloadError]) -> str:
    (error,) = results
    assert isinstance(error, PayloadError)
    return str(error)


def _rss_item(item: str, channel: str = "") -> bytes:
    doc = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{channel}<item>{item}</item></channel></rss>'
    )
    return doc.encode()


def test_it_reads_an_rss2_feed() -> None:
    first, second = _posts(parse_feed(RSS2.encode(), feed_url=FEED_URL))
    assert first.platform == "rss"
    assert first.platform_post_id == f"{FEED_URL}#1a2b3c"  # a bare guid is unique only within its feed
    assert (
        first.text
        == "サクッとポテトが湿気ってた…\n\n昨日買ったサクッとポテト、開けたら湿気ってました。\n\n賞味期限内なのに & 残念。"
    )
    assert first.author_handle == "note.com/hidamari_cafe" and first.author_display_name == "みさき"
    assert first.created_at == datetime(2024, 1, 1, 9, 30, tzinfo=JST)  # JST is not RFC 822, but is +09:00
    assert first.url == "https://note.com/hidamari_cafe/n/n1a2b3c"
    assert first.lang == "ja" and first.thread_id == first.platform_post_id and not first.in_reply_to
    assert first.raw["feed_url"] == FEED_URL and first.raw["entry"].startswith("<item")
    assert second.platform_post_id == "https://note.com/hidamari_cafe/n/n4d5e6f"
    assert second.text == "お礼の返信が来た\n\nサポートの鈴木さん、ありがとうございました☆"
    assert second.author_display_name == "Misaki"
    assert second.created_at == datetime(2024, 1, 2, 10, 0, tzinfo=JST)  # undated: the feed's date


def test_it_reads_an_atom_feed() -> None:
    first, second = _posts(parse_feed(ATOM.encode(), feed_url="https://blog.example.com/feed.atom"))
    assert first.platform_post_id == "tag:blog.example.com,2024:1"
    assert first.text == "Crunchy chips, soft bag\n\nThe bag was soft.\n\nAgain."
    assert first.url == "https://blog.example.com/2024/02/soft-bag"
    assert first.created_at == datetime(2024, 2, 1, 12, 0, tzinfo=JST)  # published before updated
    assert first.author_handle == "blog.example.com" and first.author_display_name == "Jane"
    assert first.lang == "en"
    assert second.text == "更新だけの記事\n\nとても美味しい"
    assert second.author_display_name == "Hidamari Team" and second.lang == "ja" and second.url == ""
    assert second.created_at == datetime(2024, 2, 3, 8, 0, tzinfo=UTC)
    assert second.raw["feed_title"] == "Hidamari <Support> Blog"


def test_it_reads_an_rss1_feed() -> None:
    (post,) = _posts(parse_feed(RSS1.encode(), feed_url="https://b.hatena.ne.jp/q/sakutto?mode=rss"))
    assert post.platform_post_id == "https://example.jp/review/sakutto"
    assert post.text == "サクッとポテト レビュー\n\n塩加減がちょうどいい"
    assert post.author_handle == "b.hatena.ne.jp/q/sakutto" and post.author_display_name == "taro"
    assert post.created_at == datetime(2024, 3, 1, 10, 0, tzinfo=JST) and post.lang == "ja"


@pytest.mark.parametrize("encoding", ["shift_jis", "euc-jp", "cp932", "iso-2022-jp"])
def test_it_reads_feeds_in_japanese_legacy_encodings(encoding: str) -> None:
    xml = RSS2.replace('encoding="UTF-8"', f'encoding="{encoding}"').replace("☆", "!").encode(encoding)
    first, second = _posts(parse_feed(xml, feed_url=FEED_URL))
    assert first.text.startswith("サクッとポテトが湿気ってた…") and first.author_display_name == "みさき"


def test_it_names_the_same_guid_apart_in_two_feeds() -> None:
    one = _posts(parse_feed(RSS2.encode(), feed_url="https://a.example/rss"))[0]
    two = _posts(parse_feed(RSS2.encode(), feed_url="https://b.example/rss"))[0]
    assert one.platform_post_id != two.platform_post_id


def test_it_hashes_an_id_too_long_to_store() -> None:
    slug = "%E3%82%B5%E3%82%AF%E3%83%83%E3%81%A8" * 15  # percent-encoded Japanese slugs run long
    xml = _rss_item(
        f"<title>x</title><link>https://example.jp/{slug}</link><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>"
    )
    (post,) = _posts(parse_feed(xml, feed_url=FEED_URL))
    assert post.platform_post_id.startswith("urn:sha256:") and len(post.platform_post_id) <= 200
    assert post.platform_post_id == _posts(parse_feed(xml, feed_url=FEED_URL))[0].platform_post_id
    assert post.url == ""  # longer than Post.url holds


def test_it_shortens_a_whole_article_to_what_a_post_may_hold() -> None:
    body = escape("<p>" + "長文" * MAX_TEXT_CHARS + "</p>")
    xml = _rss_item(f"<title>長い</title><guid>tag:x,1</guid><description>{body}</description><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>")  # fmt: skip
    (post,) = _posts(parse_feed(xml, feed_url=FEED_URL))
    assert len(post.text) == MAX_TEXT_CHARS and post.text.endswith("…")


def test_it_drops_links_that_are_not_http() -> None:
    xml = _rss_item("<title>x</title><guid>tag:x,1</guid><link>javascript:alert(1)</link><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>")  # fmt: skip
    (post,) = _posts(parse_feed(xml, feed_url=FEED_URL))
    assert post.url == ""


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b"<rss><channel><item><title>&lol2;</title></item></channel></rss>",
            "has a DOCTYPE",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<rss><channel><item><title>&xxe;</title></item></channel></rss>",
            "has a DOCTYPE",
        ),
        (
            b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://x/rss.dtd"><rss/>',
            "has a DOCTYPE",
        ),
        (b"<rss><channel><title>&nbsp;</title></channel></rss>", "not well-formed XML (undefined entity"),
        (b"", "not well-formed XML"),
        (b"\x00\x01", "not well-formed XML"),
        (b"<rss><channel>", "not well-formed XML"),
        (b"<html><body>404</body></html>", "not an RSS or Atom feed (the root element is <html>)"),
        (b"<rss version='2.0'/>", "<rss> has no <channel>"),
        (b'<?xml version="1.0" encoding="klingon"?><rss/>', "unknown encoding 'klingon'"),
        (b'<?xml version="1.0" encoding="shift_jis"?><rss>\x82</rss>', "is not valid shift-jis"),
        (b'<?xml version="1.0" encoding="rot13"?><rss/>', "unknown encoding 'rot13'"),
        (b'<?xml version="1.0" encoding="raw_unicode_escape"?><rss>\\ud800</rss>', "not Unicode text"),
    ],
)
def test_it_refuses_a_feed_it_must_not_or_cannot_read(xml: bytes, reason: str) -> None:
    assert reason in _only_error(parse_feed(xml, feed_url=FEED_URL))


def test_it_refuses_a_feed_too_large_to_read() -> None:
    assert "more than the 10000000 we read" in _only_error(parse_feed(b" " * (MAX_FEED_BYTES + 1), feed_url=FEED_URL))


def test_it_refuses_what_is_not_bytes() -> None:
    assert "expected the feed as bytes" in _only_error(parse_feed(RSS2, feed_url=FEED_URL))  # type: ignore[arg-type]
    assert "feed_url must be" in _only_error(parse_feed(RSS2.encode(), feed_url=None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (
            "<guid>tag:x,1</guid><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>",
            "item 1: has neither a title nor a summary",
        ),
        ("<title>x</title><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>", "item 1: has no guid, id or link"),
        ("<title>x</title><guid>tag:x,1</guid>", "item 1: has no date"),
        (
            "<title>x</title><guid>tag:x,1</guid><pubDate>the first of January</pubDate>",
            '"pubDate" is not an RFC 822 date',
        ),
        (
            "<title>x</title><guid>tag:x,1</guid><pubDate>Mon, 45 Jan 2024 00:00:00 GMT</pubDate>",
            '"pubDate" is not an RFC 822',
        ),
        ("<title>x</title><guid>tag:x,1</guid><pubDate>2024-99-01</pubDate>", '"pubDate" is not an ISO 8601 time'),
    ],
)
def test_it_names_what_an_entry_lacks(item: str, reason: str) -> None:
    assert reason in _only_error(parse_feed(_rss_item(item), feed_url=FEED_URL))


def test_it_keeps_the_good_entries_of_a_feed_with_a_bad_one() -> None:
    xml = RSS2.replace("<pubDate>Mon, 01 Jan 2024 09:30:00 JST</pubDate>", "<pubDate>soon</pubDate>").encode()
    bad, good = parse_feed(xml, feed_url=FEED_URL)
    assert isinstance(bad, PayloadError) and str(bad).startswith(f"feed '{FEED_URL}', item 1:")
    assert isinstance(good, IncomingPost)


def test_it_takes_odd_unicode_as_it_comes() -> None:
    title = "ﾎﾟｯｷｰ\u200d👨\u200d👩\u200d👧 \U0010fffd e\u0301"
    xml = _rss_item(f"<title>{title}</title><guid>tag:x,1</guid><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>")
    (post,) = _posts(parse_feed(xml, feed_url=FEED_URL))
    assert post.text == title


SAFE_TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40)


@settings(max_examples=300, deadline=None)
@given(xml=st.binary(max_size=300))
def test_it_never_raises_on_any_bytes(xml: bytes) -> None:
    results = parse_feed(xml, feed_url=FEED_URL)
    assert all(isinstance(r, IncomingPost | PayloadError) for r in results)


@settings(max_examples=300, deadline=None)
@given(
    fields=st.lists(
        st.tuples(st.sampled_from(["title", "link", "guid", "description", "pubDate", "author", "dc:date"]), SAFE_TEXT),
        max_size=6,
    ),
    feed_url=st.sampled_from([FEED_URL, "not a url", "http://[::1", "https://x/" + "y" * 300]),
)
def test_it_never_raises_on_any_rss_item(fields: list[tuple[str, str]], feed_url: str) -> None:
    item = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields)
    xml = _rss_item(item).replace(b"<rss ", b'<rss xmlns:dc="http://purl.org/dc/elements/1.1/" ')
    results = parse_feed(xml, feed_url=feed_url)
    assert len(results) == 1 and isinstance(results[0], IncomingPost | PayloadError)


@settings(max_examples=200, deadline=None)
@given(title=SAFE_TEXT, href=SAFE_TEXT, updated=SAFE_TEXT, kind=st.sampled_from(["text", "html", "xhtml", "odd"]))
def test_it_never_raises_on_any_atom_entry(title: str, href: str, updated: str, kind: str) -> None:
    xml = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        f'<title type="{kind}">{escape(title)}</title><link href="{escape(href, {chr(34): "&quot;"})}"/>'
        f"<updated>{escape(updated)}</updated><id>{escape(title)}</id></entry></feed>"
    )
    results = parse_feed(xml.encode(), feed_url=FEED_URL)
    assert len(results) == 1 and isinstance(results[0], IncomingPost | PayloadError)
