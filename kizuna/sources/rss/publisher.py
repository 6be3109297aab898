"""Blogs and news sites take no replies through an API: an operator answers by hand.

`publish` sends nothing and never fails. It hands back the entry's own link as the URL, so
the operator can open the article and comment there (or write to the author), and the
Django side records the reply as "replied by hand" (`replied_by_hand` below says so).
The id is derived from the idempotency key, so recording it twice finds the same reply.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from kizuna.sources.base import Published, ReplyTarget
from kizuna.sources.rss.parser import ATOM, RSS1

BY_HAND_PREFIX = "by-hand:"


class RssPublisher:
    """The publisher for blog and news sources: nothing is posted; the link leads to the entry."""

    replied_by_hand = True

    def test_connection(self) -> str:
        return "Blog and news entries are answered by hand on the site; nothing to connect"

    def publish(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published:
        return Published(BY_HAND_PREFIX + idempotency_key, entry_link(target))

    def find_published(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published | None:
        # Nothing is ever sent, so there is nothing to find: publishing again is harmless.
        return None


def entry_link(target: ReplyTarget) -> str:
    """Return the web address of the entry a target was made from (its link, else an http id, else the feed)."""
    raw = target.raw
    feed_url = str(raw.get("feed_url") or "")
    link = ""
    entry = raw.get("entry")
    if isinstance(entry, str) and entry:
        try:
            element = ET.fromstring(entry)  # noqa: S314 - our own serialization of an already parsed entry
        except ET.ParseError:
            element = None
        if element is not None:
            link = _link_of(element)
    if not link and target.platform_post_id.startswith(("http://", "https://")):
        link = target.platform_post_id
    link = urljoin(feed_url, link) if link else feed_url
    return link if link.startswith(("http://", "https://")) else ""


def _link_of(element: ET.Element) -> str:
    for atom_link in element.findall(f"{ATOM}link"):
        if atom_link.get("rel", "alternate") == "alternate" and atom_link.get("href"):
            return atom_link.get("href", "").strip()
    for path in ("link", f"{RSS1}link"):
        text = (element.findtext(path) or "").strip()
        if text:
            return text
    guid = element.find("guid")
    if guid is not None and guid.get("isPermaLink", "true") != "false":
        return (guid.text or "").strip()
    return ""
