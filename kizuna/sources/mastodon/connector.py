"""Collect Mastodon statuses: the streaming API (SSE) and search polling, over one account's instance.

Status ids are those of our instance, so they can be answered through it. Rate limits
are per account (300 requests / 5 min): `X-RateLimit-Remaining` is watched and reads stop
`reserve` requests short of the limit, so replies still get through; `X-RateLimit-Reset`
is an ISO time. The stream cannot resume, so after a reconnect the matching timeline
(tag, public, or mention notifications) is read from the last id seen: no gap, and posts
seen twice are dropped. Our own statuses are left to the pipeline (the source's handle).
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.sources.backoff import Clock, Sleep, backoff_delay, from_iso, real_sleep, seconds_until, split_lines
from kizuna.sources.backoff import utc_now as _utc_now
from kizuna.sources.base import AuthFailed, CollectResult, ConnectorError, Quota, RateLimited
from kizuna.sources.mastodon.parser import parse_sse_stream, parse_status

STREAMS = {"hashtag": "hashtag", "public": "public", "public:local": "public/local", "user": "user"}


@dataclass(frozen=True)
class InstanceLimits:
    max_characters: int = 500
    characters_reserved_per_url: int = 23


class MastodonApi:
    """A small client for one instance as one account (Bearer token)."""

    def __init__(
        self, http: httpx.Client, *, base_url: str, access_token: str, reserve: int = 0, clock: Clock = _utc_now
    ) -> None:
        self.http, self.base_url, self.token = http, base_url.rstrip("/"), access_token
        self.reserve, self.clock = reserve, clock
        self.window: tuple[int, int, datetime] | None = None  # limit, remaining, reset

    @property
    def instance(self) -> str:
        return httpx.URL(self.base_url).host

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "User-Agent": "Kizuna"}

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        if self.window is not None and self.window[1] <= self.reserve and self.window[2] > self.clock():
            raise RateLimited(
                f"Mastodon {self.instance}: {self.window[1]} requests left, kept for replies", reset_at=self.window[2]
            )
        try:
            response = self.http.request(
                method, self.base_url + path, params=params, json=body, headers=self.headers() | dict(headers or {})
            )
        except httpx.TransportError as exc:
            raise ConnectorError(f"Mastodon: cannot reach {self.instance}: {type(exc).__name__}") from exc
        self.note_window(response)
        if response.status_code >= 400:
            raise self.error(f"{method} {path}", response)
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(f"Mastodon {method} {path}: the answer is not JSON", retryable=False) from None

    def note_window(self, response: httpx.Response) -> None:
        try:
            limit = int(response.headers["x-ratelimit-limit"])
            remaining = int(response.headers["x-ratelimit-remaining"])
        except (KeyError, ValueError):
            return
        reset = from_iso(response.headers.get("x-ratelimit-reset"), default=self.clock() + timedelta(minutes=5))
        self.window = (limit, remaining, reset)

    def error(self, where: str, response: httpx.Response) -> ConnectorError:
        try:
            detail = str(response.json().get("error") or response.reason_phrase)
        except (ValueError, AttributeError):
            detail = response.reason_phrase or "no details"
        message = f"Mastodon {self.instance} {where}: {response.status_code} {detail}"
        if response.status_code == 429:
            reset = from_iso(response.headers.get("x-ratelimit-reset"), default=self.clock() + timedelta(minutes=5))
            return RateLimited(message, reset_at=reset)
        if response.status_code in {401, 403}:
            return AuthFailed(message + " (check the access token and its scopes: read, write:statuses)")
        return ConnectorError(message, retryable=response.status_code >= 500)

    def quotas(self) -> list[Quota]:
        if self.window is None:
            return []
        limit, remaining, reset = self.window
        return [Quota("requests (5 min)", limit - remaining, limit, reset)]

    def verify_credentials(self) -> dict[str, Any]:
        doc = self.get("/api/v1/accounts/verify_credentials")
        return doc if isinstance(doc, dict) else {}

    def test_connection(self) -> str:
        me = self.verify_credentials()
        return f"Mastodon account @{me.get('acct', '?')}@{self.instance} ({me.get('display_name', '')})"

    def instance_limits(self) -> InstanceLimits:
        """Read the instance's status length limit (`configuration.statuses` of /api/v2/instance)."""
        doc = self.get("/api/v2/instance")
        statuses = ((doc or {}).get("configuration") or {}).get("statuses") or {}
        return InstanceLimits(
            int(statuses.get("max_characters") or 500), int(statuses.get("characters_reserved_per_url") or 23)
        )

    def context(self, status_id: str) -> list[IncomingPost | PayloadError]:
        """Return a status's thread: ancestors (oldest first), then descendants (/api/v1/statuses/:id/context)."""
        doc = self.get(f"/api/v1/statuses/{quote(status_id, safe='')}/context") or {}
        items: list[IncomingPost | PayloadError] = []
        for status in [*(doc.get("ancestors") or []), *(doc.get("descendants") or [])]:
            try:
                items.append(parse_status(status, instance=self.instance))
            except PayloadError as exc:
                items.append(exc)
        return items


def _id_key(status_id: str) -> tuple[int, str]:
    # Ids are numeric strings on Mastodon, compared as numbers; other servers' are compared as text.
    return (len(status_id), status_id) if status_id.isdigit() else (0, status_id)


def _newest(ids: list[str]) -> str | None:
    return max(ids, key=_id_key) if ids else None


def _statuses(docs: object, instance: str, result: CollectResult, seen: set[str] | deque[str]) -> list[str]:
    """Parse a list of statuses into result, skipping ids already seen; return every id read."""
    ids = []
    for status in docs if isinstance(docs, list) else []:
        status_id = str(status.get("id")) if isinstance(status, dict) and status.get("id") is not None else ""
        if status_id:
            ids.append(status_id)
            if status_id in seen:
                continue
        try:
            post = parse_status(status, instance=instance)
        except PayloadError as exc:
            result.items.append(exc)
            result.bad_payloads.append(json.dumps(status, ensure_ascii=False))
            continue
        if isinstance(seen, set):
            seen.add(post.platform_post_id)
        else:
            seen.append(post.platform_post_id)
        result.items.append(post)
    return ids


class MastodonSearchCollector:
    """Poll `/api/v2/search?type=statuses` per query, newest since the last poll.

    Full-text search covers only statuses the instance has indexed (and that opted in).
    State keys: `min_ids` (per query key), `pending` (a page chain cut short by `max_pages`).
    """

    def __init__(
        self,
        api: MastodonApi,
        *,
        queries: Mapping[str, str],
        poll_seconds: float = 60.0,
        max_pages: int = 3,
        page_size: int = 40,
    ) -> None:
        self.api, self.queries = api, dict(queries)
        self.poll_seconds, self.max_pages, self.page_size = poll_seconds, max_pages, page_size

    def test_connection(self) -> str:
        return self.api.test_connection()

    def collect(self, state: dict[str, Any]) -> CollectResult:
        min_ids = {k: v for k, v in (state.get("min_ids") or {}).items() if k in self.queries}
        pending = {k: v for k, v in (state.get("pending") or {}).items() if k in self.queries}
        result, seen = CollectResult(), set[str]()
        wait = self.poll_seconds
        for key, query in self.queries.items():
            try:
                self._poll(key, query, min_ids, pending, result, seen)
            except RateLimited as exc:
                if not result.items:
                    raise
                wait = max(wait, seconds_until(exc.reset_at, self.api.clock()))
                break
        result.state = {"min_ids": min_ids, "pending": pending}
        result.quotas, result.wait_seconds = self.api.quotas(), wait
        return result

    def _poll(
        self,
        key: str,
        query: str,
        min_ids: dict[str, str],
        pending: dict[str, Any],
        result: CollectResult,
        seen: set[str],
    ) -> None:
        chain = pending.pop(key, None)
        chain = chain if isinstance(chain, dict) and chain.get("query") == query else None
        max_id, newest = (chain.get("max_id"), chain.get("newest")) if chain else (None, None)
        min_id = min_ids.get(key)
        for _ in range(self.max_pages):
            params = {"q": query, "type": "statuses", "limit": self.page_size, "resolve": "false"}
            params |= {"min_id": min_id} if min_id else {}
            params |= {"max_id": max_id} if max_id else {}
            doc = self.api.get("/api/v2/search", params) or {}
            ids = _statuses(doc.get("statuses"), self.api.instance, result, seen)
            newest = _newest([*ids, *([newest] if newest else [])])
            if len(ids) < self.page_size or not min_id:
                max_id = None  # the last page, or a first poll (which starts from now)
                break
            max_id = min(ids, key=_id_key)
        if max_id:
            pending[key] = {"max_id": max_id, "newest": newest, "query": query}
        elif newest:
            min_ids[key] = newest


class MastodonStreamCollector:
    """Read one streaming timeline (SSE) for up to `max_seconds` per call.

    `stream` is "hashtag" (with `tag`), "public", "public:local" or "user" (our home
    timeline and notifications; mentions are what we keep). The connection stays open
    between calls. State keys: `last_id` (newest status id seen), `last_notification_id`
    (user stream), `failures`.
    """

    def __init__(
        self,
        api: MastodonApi,
        *,
        stream: str,
        tag: str = "",
        streaming_url: str = "",
        max_seconds: float = 30.0,
        read_timeout: float = 60.0,
        backfill_pages: int = 5,
        sleep: Sleep = real_sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if stream not in STREAMS or (stream == "hashtag") != bool(tag):
            raise ValueError(f"unknown stream {stream!r} (hashtag needs a tag; others take none)")
        self.api, self.stream, self.tag = api, stream, tag.lstrip("#")
        self.streaming_url = (streaming_url or api.base_url).rstrip("/")
        self.max_seconds, self.read_timeout, self.backfill_pages = max_seconds, read_timeout, backfill_pages
        self.sleep, self.monotonic, self.rng = sleep, monotonic, rng
        self._response: httpx.Response | None = None
        self._lines: Iterator[bytes] | None = None
        self._recent: deque[str] = deque(maxlen=2000)
        self._event: list[bytes] = []  # lines of an event not finished when a call ended

    def test_connection(self) -> str:
        return self.api.test_connection()

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        self._response = self._lines = None
        self._event = []

    def collect(self, state: dict[str, Any]) -> CollectResult:
        deadline = self.monotonic() + self.max_seconds
        marks = {k: state.get(k) for k in ("last_id", "last_notification_id") if isinstance(state.get(k), str)}
        failures = int(state.get("failures") or 0)
        result = CollectResult()
        while self.monotonic() < deadline:
            try:
                lines = self._lines or self._connect(marks, result)
                line = next(lines)
            except (ConnectorError, httpx.TransportError, httpx.StreamError, StopIteration) as exc:
                self.close()
                if isinstance(exc, ConnectorError) and not exc.retryable:
                    raise
                failures += 1
                delay = backoff_delay(failures, base=1, cap=120, rng=self.rng)
                if isinstance(exc, RateLimited):
                    delay = max(delay, seconds_until(exc.reset_at, self.api.clock()))
                    if not result.items:
                        raise
                if self.monotonic() + delay >= deadline:
                    result.wait_seconds = delay
                    break
                self.sleep(delay)
                continue
            failures = 0
            if line:
                self._event.append(line)
                continue
            if self._event:
                self._dispatch(b"\n".join(self._event).decode("utf-8", "replace"), marks, result)
            self._event = []
        result.state = {**marks, "failures": failures}
        result.quotas = self.api.quotas()
        return result

    def _connect(self, marks: dict[str, Any], result: CollectResult) -> Iterator[bytes]:
        path = STREAMS[self.stream]
        params = {"tag": self.tag} if self.stream == "hashtag" else {}
        request = self.api.http.build_request(
            "GET",
            f"{self.streaming_url}/api/v1/streaming/{path}",
            params=params,
            headers=self.api.headers() | {"Accept": "text/event-stream"},
            timeout=httpx.Timeout(10.0, read=self.read_timeout),
        )
        try:
            response = self.api.http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise ConnectorError(f"Mastodon streaming: cannot reach {request.url.host}: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            response.read()
            response.close()
            raise self.api.error(f"GET /api/v1/streaming/{path}", response)
        self._response = response
        self._lines = split_lines(response.iter_bytes())
        # The stream is open (what comes now is buffered): read what happened while we were away.
        self._backfill(marks, result)
        return self._lines

    def _backfill(self, marks: dict[str, Any], result: CollectResult) -> None:
        mark_key = "last_notification_id" if self.stream == "user" else "last_id"
        min_id = marks.get(mark_key)
        if not min_id:
            return
        if self.stream == "user":
            path, params = "/api/v1/notifications", {"types[]": "mention"}
        elif self.stream == "hashtag":
            path, params = f"/api/v1/timelines/tag/{quote(self.tag, safe='')}", {}
        else:
            path, params = "/api/v1/timelines/public", {"local": "true"} if self.stream == "public:local" else {}
        for _ in range(self.backfill_pages):
            page = self.api.get(path, {**params, "limit": 40, "min_id": min_id})
            if not isinstance(page, list) or not page:
                break
            statuses = [n.get("status") for n in page if isinstance(n, dict)] if self.stream == "user" else page
            ids = _statuses([s for s in statuses if s is not None], self.api.instance, result, self._recent)
            page_ids = [str(n["id"]) for n in page if isinstance(n, dict) and n.get("id") is not None]
            min_id = _newest(page_ids) or min_id
            if self.stream != "user":
                self._mark(marks, "last_id", ids)
        marks[mark_key] = min_id

    def _dispatch(self, text: str, marks: dict[str, Any], result: CollectResult) -> None:
        data = "\n".join(line[5:].removeprefix(" ") for line in text.split("\n") if line.startswith("data:"))
        for kind, item in parse_sse_stream(text + "\n\n", instance=self.api.instance):
            if isinstance(item, PayloadError):
                result.items.append(item)
                result.bad_payloads.append(data)
            elif isinstance(item, IncomingPost):
                if kind == "notification":
                    notification_id = _json_id(data)
                    if notification_id:
                        self._mark(marks, "last_notification_id", [notification_id])
                else:
                    self._mark(marks, "last_id", [item.platform_post_id])
                if item.platform_post_id not in self._recent:
                    self._recent.append(item.platform_post_id)
                    result.items.append(item)

    @staticmethod
    def _mark(marks: dict[str, Any], key: str, ids: list[str]) -> None:
        newest = _newest([*ids, *([marks[key]] if marks.get(key) else [])])
        if newest:
            marks[key] = newest


def _json_id(data: str) -> str:
    try:
        doc = json.loads(data)
    except ValueError:
        return ""
    return str(doc["id"]) if isinstance(doc, dict) and doc.get("id") is not None else ""
