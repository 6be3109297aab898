"""Poll blog and news feeds (RSS 2.0, RSS 1.0, Atom), search feeds included.

Each poll is a conditional GET (If-None-Match / If-Modified-Since): 304 means nothing new
and costs the blog almost nothing. Entries become posts; those already delivered are
remembered (as short hashes) so a feed that changes one entry does not resend twenty. A
feed that fails is retried later with backoff while the others go on; only when every feed
fails does collect raise. Blogs are never our own account, so there is nothing to mark.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.sources.backoff import Clock, backoff_delay, seconds_until
from kizuna.sources.backoff import utc_now as _utc_now
from kizuna.sources.base import CollectResult, ConnectorError
from kizuna.sources.rss.parser import MAX_FEED_BYTES, parse_feed

_ACCEPT = "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, */*;q=0.1"
_MAX_QUARANTINED_CHARS = 100_000


class RssCollector:
    """Poll `feeds` (URLs), every `poll_seconds` at most.

    State: {"feeds": {url: {"etag", "last_modified", "seen": [hash, ...], "failures",
    "retry_at", "error"}}}; `error` is the last failure in words, for the source page.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        feeds: Sequence[str],
        poll_seconds: float = 900.0,
        remember: int = 500,
        timeout: float = 30.0,
        clock: Clock = _utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.http, self.feeds = http, list(dict.fromkeys(feeds))
        self.poll_seconds, self.remember, self.timeout = poll_seconds, remember, timeout
        self.clock, self.rng = clock, rng

    def test_connection(self) -> str:
        described = []
        for url in self.feeds:
            body, _ = self._fetch(url, {})
            items = parse_feed(body or b"", feed_url=url)
            posts = [item for item in items if isinstance(item, IncomingPost)]
            if not posts and items:
                raise ConnectorError(str(items[0]), retryable=False)
            title = posts[0].raw.get("feed_title") if posts else ""
            described.append(f"{title or url} ({len(posts)} entries)")
        return "Feeds: " + "; ".join(described)

    def collect(self, state: dict[str, Any]) -> CollectResult:
        now = self.clock()
        saved: dict[str, Any] = state["feeds"] if isinstance(state.get("feeds"), dict) else {}
        feeds: dict[str, dict[str, Any]] = {url: dict(saved.get(url) or {}) for url in self.feeds}
        result = CollectResult()
        failed: list[str] = []
        polled = 0
        for url, feed in feeds.items():
            retry_at = _time(feed.get("retry_at"))
            if retry_at is not None and retry_at > now:
                continue
            polled += 1
            try:
                self._poll(url, feed, result)
            except ConnectorError as exc:
                failed.append(str(exc))
                failures = int(feed.get("failures") or 0) + 1
                delay = backoff_delay(failures, base=60, cap=6 * 3600, rng=self.rng)
                if isinstance(exc, _FeedUnavailable):
                    delay = max(delay, exc.retry_after)  # the blog's own Retry-After wins
                feed.update(failures=failures, error=str(exc), retry_at=(now + timedelta(seconds=delay)).isoformat())
                continue
            feed.update(failures=0, error="", retry_at=None)
        if polled and len(failed) == polled and not result.items:
            raise ConnectorError("every feed failed: " + " | ".join(failed))
        result.state = {"feeds": feeds}
        waits = [seconds_until(t, now) for f in feeds.values() if (t := _time(f.get("retry_at"))) is not None]
        result.wait_seconds = min([self.poll_seconds, *[w for w in waits if w > 0]])
        return result

    def _poll(self, url: str, feed: dict[str, Any], result: CollectResult) -> None:
        body, headers = self._fetch(url, feed)
        if body is None:
            return  # 304 Not Modified
        feed["etag"] = headers.get("etag") or ""
        feed["last_modified"] = headers.get("last-modified") or ""
        seen = [h for h in feed.get("seen") or [] if isinstance(h, str)]
        known = set(seen)
        for item in parse_feed(body, feed_url=url):
            if isinstance(item, PayloadError):
                result.items.append(item)
                result.bad_payloads.append(body.decode("utf-8", "replace")[:_MAX_QUARANTINED_CHARS])
                continue
            digest = hashlib.sha256(item.platform_post_id.encode("utf-8")).hexdigest()[:16]
            if digest in known:
                continue
            known.add(digest)
            seen.append(digest)
            result.items.append(item)
        feed["seen"] = seen[-self.remember :]

    def _fetch(self, url: str, feed: Mapping[str, Any]) -> tuple[bytes | None, httpx.Headers]:
        headers = {"Accept": _ACCEPT, "User-Agent": "Kizuna (+feed reader)"}
        if feed.get("etag"):
            headers["If-None-Match"] = str(feed["etag"])
        if feed.get("last_modified"):
            headers["If-Modified-Since"] = str(feed["last_modified"])
        try:
            with self.http.stream("GET", url, headers=headers, follow_redirects=True, timeout=self.timeout) as response:
                if response.status_code == 304:
                    return None, response.headers
                if response.status_code >= 400:
                    raise _http_error(url, response, self.clock())
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_FEED_BYTES:
                        raise ConnectorError(f"feed {url}: larger than {MAX_FEED_BYTES} bytes", retryable=False)
                return body, response.headers
        except httpx.TransportError as exc:
            raise ConnectorError(f"feed {url}: cannot fetch it ({type(exc).__name__})") from exc
        except httpx.InvalidURL as exc:
            raise ConnectorError(f"feed {url!r} is not a URL we can fetch: {exc}", retryable=False) from exc


class _FeedUnavailable(ConnectorError):
    def __init__(self, message: str, *, retry_after: float, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.retry_after = retry_after


def _http_error(url: str, response: httpx.Response, now: datetime) -> ConnectorError:
    status = response.status_code
    retry_after = _retry_after(response.headers.get("retry-after"), now)
    hint = {404: "the feed is gone", 410: "the feed was removed", 401: "it needs a login", 403: "access is refused"}
    message = f"feed {url}: {status} {response.reason_phrase}" + (f" ({hint[status]})" if status in hint else "")
    return _FeedUnavailable(message, retry_after=retry_after, retryable=status >= 500 or status == 429)


def _retry_after(value: str | None, now: datetime) -> float:
    if not value:
        return 0.0
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return seconds_until(parsedate_to_datetime(value), now)
    except (TypeError, ValueError, IndexError):
        return 0.0


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
