"""Turn RSS 2.0, RSS 1.0 (RDF) and Atom feeds into IncomingPost, one per entry.

Pure functions over the bytes we fetched: no Django, no network. Only the standard library's
ElementTree reads the XML, and a document with a DOCTYPE is refused before any entity in it
is declared, so neither external entities nor entity expansion can happen. Each problem
comes back as a PayloadError naming the entry and the element.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import urljoin

from kizuna.core.posts import MAX_TEXT_CHARS, IncomingPost, PayloadError, parse_time
from kizuna.sources.mastodon.parser import html_to_text
from kizuna.sources.payload import say as _say

PLATFORM = "rss"
MAX_FEED_BYTES = 10_000_000
_MAX_ID = 200  # the width of Post.platform_post_id and Author.handle
_MAX_URL = 500
ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_EMAIL_AND_NAME = re.compile(r"\S+@\S+\s*\((?P<name>[^()]+)\)")


class _Feed(NamedTuple):
    kind: str  # "rss2", "rss1" or "atom"
    url: str
    title: str
    site: str
    author: str
    lang: str
    date: tuple[str, str]  # (element name, text) of the feed's own date, used for undated entries


class _Entry(NamedTuple):
    where: str
    ident: str
    title: str
    summary: str
    link: str
    author: str
    lang: str
    date: tuple[str, str]


class _DoctypeRefused(Exception):
    pass


class _NoDoctypeBuilder(ET.TreeBuilder):
    # Expat reports the DOCTYPE when it starts, before the internal subset declares anything.
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _DoctypeRefused


def parse_feed(xml: bytes, *, feed_url: str) -> list[IncomingPost | PayloadError]:
    """Parse a fetched feed into one post (or PayloadError) per entry.

    The author handle is the blog (its home page without the scheme), so that two blogs'
    "admin" stay two people; the entry's author name is the display name. An id without a
    scheme is made unique with the feed URL; an id too long to store is replaced by its hash.
    """
    if not isinstance(feed_url, str) or not feed_url:
        return [PayloadError(f"feed_url must be the URL the feed was fetched from, got {_say(feed_url)}")]
    try:
        root = _parse_xml(xml)
    except PayloadError as exc:
        return [PayloadError(f"feed {_say(feed_url)}: {exc}")]
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            return [PayloadError(f"feed {_say(feed_url)}: <rss> has no <channel>")]
        feed, entries = _rss2(channel, feed_url), [_rss2_entry(it, i) for i, it in enumerate(channel.findall("item"))]
    elif root.tag == f"{RDF}RDF":
        channel = root.find(f"{RSS1}channel")
        feed = _rss1(channel, feed_url)
        entries = [_rss1_entry(item, i) for i, item in enumerate(root.findall(f"{RSS1}item"))]
    elif root.tag == f"{ATOM}feed":
        feed = _atom(root, feed_url)
        entries = [_atom_entry(entry, i, feed_url) for i, entry in enumerate(root.findall(f"{ATOM}entry"))]
    else:
        return [PayloadError(f"feed {_say(feed_url)}: not an RSS or Atom feed (the root element is <{root.tag[:80]}>)")]
    results: list[IncomingPost | PayloadError] = []
    for entry, element in entries:
        try:
            results.append(_post(feed, entry, element))
        except PayloadError as exc:
            results.append(PayloadError(f"feed {_say(feed_url)}, {entry.where}: {exc}"))
    return results


def _parse_xml(xml: bytes) -> ET.Element:
    if not isinstance(xml, bytes | bytearray):
        raise PayloadError(f"expected the feed as bytes, got {type(xml).__name__}")
    if len(xml) > MAX_FEED_BYTES:
        raise PayloadError(f"is {len(xml)} bytes, more than the {MAX_FEED_BYTES} we read")
    xml = _to_utf8(bytes(xml))
    # defusedxml's protections, for what ElementTree can do: no DOCTYPE means no entity at all.
    parser = ET.XMLParser(target=_NoDoctypeBuilder())  # noqa: S314
    try:
        parser.feed(xml)
        root = parser.close()
    except _DoctypeRefused:
        raise PayloadError("has a DOCTYPE; feeds with DTDs or entity declarations are refused") from None
    except ET.ParseError as exc:
        raise PayloadError(f"is not well-formed XML ({exc})") from None
    except (ValueError, LookupError) as exc:
        raise PayloadError(f"is in an encoding we cannot read ({_say(str(exc))})") from None
    if not isinstance(root, ET.Element):
        raise PayloadError("has no root element")
    return root


def _to_utf8(xml: bytes) -> bytes:
    """Re-encode a feed declared in a multi-byte legacy encoding, which expat cannot read.

    Japanese blogs still serve Shift_JIS and EUC-JP feeds.
    """
    match = _DECLARED_ENCODING.match(xml[:200])
    if match is None:
        return xml
    declared = match[1].decode("ascii").lower().replace("_", "-")
    if declared in {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "utf-16"}:
        return xml
    try:
        text = xml.decode(declared)
    except LookupError:
        raise PayloadError(f"declares the unknown encoding {_say(match[1].decode('ascii'))}") from None
    except UnicodeDecodeError as exc:
        raise PayloadError(f"is not valid {declared} (byte {exc.start})") from None
    try:
        return text.replace(match[1].decode("ascii"), "UTF-8", 1).encode("utf-8")
    except UnicodeError:
        raise PayloadError(f"decoded as {declared}, holds characters that are not Unicode text") from None


def _rss2(channel: ET.Element, feed_url: str) -> _Feed:
    date = _first(channel, "pubDate", "lastBuildDate", f"{DC}date")
    author = _text(channel, f"{DC}creator") or _person(_text(channel, "managingEditor"))
    return _Feed(
        "rss2", feed_url, _text(channel, "title"), _text(channel, "link"), author, _text(channel, "language"), date
    )


def _rss2_entry(item: ET.Element, index: int) -> tuple[_Entry, ET.Element]:
    guid = item.find("guid")
    ident = (guid.text or "").strip() if guid is not None else ""
    link = _text(item, "link")
    if not link and guid is not None and guid.get("isPermaLink", "true") != "false" and ident.startswith("http"):
        link = ident
    summary = html_to_text(_text(item, "description") or _text(item, f"{CONTENT}encoded"))
    author = _text(item, f"{DC}creator") or _person(_text(item, "author"))
    date = _first(item, "pubDate", f"{DC}date")
    return _Entry(f"item {index + 1}", ident or link, _text(item, "title"), summary, link, author, "", date), item


def _rss1(channel: ET.Element | None, feed_url: str) -> _Feed:
    if channel is None:
        return _Feed("rss1", feed_url, "", "", "", "", ("", ""))
    date = _first(channel, f"{DC}date")
    title, site = _text(channel, f"{RSS1}title"), _text(channel, f"{RSS1}link")
    return _Feed("rss1", feed_url, title, site, _text(channel, f"{DC}creator"), _text(channel, f"{DC}language"), date)


def _rss1_entry(item: ET.Element, index: int) -> tuple[_Entry, ET.Element]:
    link = _text(item, f"{RSS1}link")
    ident = (item.get(f"{RDF}about") or "").strip() or link
    summary = html_to_text(_text(item, f"{RSS1}description") or _text(item, f"{CONTENT}encoded"))
    title, author = _text(item, f"{RSS1}title"), _text(item, f"{DC}creator")
    return _Entry(f"item {index + 1}", ident, title, summary, link, author, "", _first(item, f"{DC}date")), item


def _atom(root: ET.Element, feed_url: str) -> _Feed:
    date = _first(root, f"{ATOM}updated")
    author = _text(root, f"{ATOM}author/{ATOM}name")
    title = _atom_text(root.find(f"{ATOM}title"))
    return _Feed("atom", feed_url, title, _atom_link(root, feed_url), author, root.get(XML_LANG, ""), date)


def _atom_entry(entry: ET.Element, index: int, feed_url: str) -> tuple[_Entry, ET.Element]:
    summary = entry.find(f"{ATOM}summary")
    summary = summary if summary is not None else entry.find(f"{ATOM}content")
    date = _first(entry, f"{ATOM}published", f"{ATOM}updated")
    return _Entry(
        f"entry {index + 1}",
        _text(entry, f"{ATOM}id"),
        _atom_text(entry.find(f"{ATOM}title")),
        _atom_text(summary),
        _atom_link(entry, feed_url),
        _text(entry, f"{ATOM}author/{ATOM}name"),
        entry.get(XML_LANG, ""),
        date,
    ), entry


def _atom_text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        return " ".join("".join(element.itertext()).split())
    text = element.text or ""
    return html_to_text(text) if kind in {"html", "text/html"} else text.strip()


def _atom_link(element: ET.Element, base: str) -> str:
    for link in element.findall(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return _join(base, link.get("href", ""))
    return ""


def _join(base: str, href: str) -> str:
    try:
        return urljoin(base, href.strip())
    except ValueError:  # e.g. a malformed IPv6 host
        return ""


def _post(feed: _Feed, entry: _Entry, element: ET.Element) -> IncomingPost:
    title, summary = entry.title.strip(), entry.summary.strip()
    text = "\n\n".join(part for part in dict.fromkeys((title, summary)) if part)
    if not text:
        raise PayloadError("has neither a title nor a summary")
    if len(text) > MAX_TEXT_CHARS:
        # A full-text feed carries whole articles; the start is enough to match and read,
        # and the link leads to the rest.
        text = text[: MAX_TEXT_CHARS - 1] + "…"
    ident = entry.ident or entry.link
    if not ident:
        raise PayloadError("has no guid, id or link to know it by")
    if ":" not in ident:
        ident = f"{feed.url}#{ident}"  # a bare guid such as "1234" is only unique within its feed
    if len(ident) > _MAX_ID:
        ident = "urn:sha256:" + hashlib.sha256(ident.encode("utf-8")).hexdigest()
    site = _http_url(feed.site) or _http_url(feed.url) or feed.url
    handle = site.split("://", 1)[-1].rstrip("/")[:_MAX_ID]
    lang = entry.lang or feed.lang
    return IncomingPost(
        platform=PLATFORM,
        platform_post_id=ident,
        text=text,
        author_handle=handle,
        created_at=_created_at(entry.date, feed.date),
        author_display_name=(entry.author or feed.author or feed.title).strip()[:200],
        url=_http_url(_join(feed.url, entry.link)) if entry.link else "",
        lang=lang if len(lang) <= 16 else "",
        thread_id=ident,
        raw={
            "feed_url": feed.url,
            "format": feed.kind,
            "feed_title": feed.title,
            "entry": ET.tostring(element, encoding="unicode").strip(),
        },
    )


def _created_at(date: tuple[str, str], feed_date: tuple[str, str]) -> datetime:
    name, value = date if date[1] else feed_date
    if not value:
        raise PayloadError("has no date (pubDate, dc:date, published or updated), nor has the feed")
    name = name.split("}")[-1]
    if value[:4].isdigit():
        return parse_time(value, name)
    # RFC 822 knows only US zone names; Japanese feeds often write JST.
    value = re.sub(r"\s+JST$", " +0900", value)
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise PayloadError(f'"{name}" is not an RFC 822 date: {_say(value)}') from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _first(element: ET.Element, *names: str) -> tuple[str, str]:
    for name in names:
        value = _text(element, name)
        if value:
            return name, value
    return "", ""


def _text(element: ET.Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _person(value: str) -> str:
    """Take the name out of RSS's "jane@example.com (Jane Doe)"."""
    match = _EMAIL_AND_NAME.fullmatch(value)
    return match["name"].strip() if match else value


def _http_url(url: str) -> str:
    # Shown to operators as a link: only http(s), and only what fits Post.url.
    url = url.strip()
    return url if url.startswith(("https://", "http://")) and len(url) <= _MAX_URL else ""
