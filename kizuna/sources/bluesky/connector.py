"""Collect Bluesky posts from Jetstream, and read threads and author feeds over XRPC.

Jetstream sends every post on the network; only those the injected `match` accepts come
back, so the caller's matcher (cheap, pure) runs at firehose speed here and the pipeline
sees only candidates. Jetstream carries DIDs, not handles: our own posts arrive with our
DID as the author handle, so the Django side lists the account's DID (from the session)
among the source's own accounts and leaves the marking to the pipeline.

Resuming: the state's `cursor` is the highest `time_us` read. A reconnect asks Jetstream to
replay from a few seconds before it, because live events arrive slightly out of time order
(the recorded capture has later events before earlier ones); replayed posts already
delivered are recognised by their URI in `delivered` and dropped, so there is no gap and
no duplicate.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.sources.backoff import Clock, Sleep, backoff_delay, from_unix, real_sleep
from kizuna.sources.backoff import utc_now as _utc_now
from kizuna.sources.base import AuthFailed, CollectResult, ConnectorError, RateLimited
from kizuna.sources.bluesky.parser import POST_COLLECTION, parse_jetstream_event, parse_post_view

JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
PDS = "https://bsky.social"
PUBLIC_APPVIEW = "https://public.api.bsky.app"
Match = Callable[[IncomingPost], bool]
_SESSION_LIMITS = ((timedelta(minutes=5), 25), (timedelta(days=1), 250))  # platform: 30/5 min, 300/day


class JetstreamCollector:
    """Read Jetstream for at most `max_seconds` or `max_events` events per call.

    The websocket stays open between calls while the caller hands back the state it got.
    State keys: `cursor` (time_us), `delivered` ([[time_us, uri], ...] of the last
    `rewind_seconds`), `failures` (consecutive connection failures, for backoff).
    """

    def __init__(
        self,
        *,
        match: Match,
        url: str = JETSTREAM,
        max_seconds: float = 20.0,
        max_events: int = 20_000,
        rewind_seconds: float = 5.0,
        open_timeout: float = 10.0,
        sleep: Sleep = real_sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.match, self.url = match, url
        self.max_seconds, self.max_events = max_seconds, max_events
        self.rewind_us = int(rewind_seconds * 1_000_000)
        self.open_timeout = open_timeout
        self.sleep, self.monotonic, self.rng = sleep, monotonic, rng
        self._ws: ClientConnection | None = None
        self._at: int | None = None  # the cursor the open connection has reached

    def test_connection(self) -> str:
        with connect(self._url(None), open_timeout=self.open_timeout, user_agent_header="Kizuna") as ws:
            try:
                event = json.loads(ws.recv(timeout=self.open_timeout))
            except TimeoutError:
                raise ConnectorError(f"Jetstream {self.url}: connected, but no event came in time") from None
        return f"Jetstream {self.url}: receiving events (latest time_us {event.get('time_us', '?')})"

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
        self._ws, self._at = None, None

    def collect(self, state: dict[str, Any]) -> CollectResult:
        deadline = self.monotonic() + self.max_seconds
        cursor = state.get("cursor") if isinstance(state.get("cursor"), int) else None
        delivered = {uri: t for t, uri in state.get("delivered") or [] if isinstance(uri, str) and isinstance(t, int)}
        failures = int(state.get("failures") or 0)
        result = CollectResult()
        events = 0
        while events < self.max_events and (remaining := deadline - self.monotonic()) > 0:
            try:
                ws = self._open(cursor)
                try:
                    message = ws.recv(timeout=remaining)
                except TimeoutError:
                    break  # quiet until the deadline: the connection stays open for the next call
            except InvalidURI as exc:
                raise ConnectorError(f"Jetstream URL {self.url!r} is not a websocket URL", retryable=False) from exc
            except (ConnectionClosed, InvalidHandshake, OSError):  # OSError includes a handshake timeout
                self.close()
                failures += 1
                delay = backoff_delay(failures, base=1, cap=120, rng=self.rng)
                if self.monotonic() + delay >= deadline:
                    result.wait_seconds = delay
                    break
                self.sleep(delay)
                continue
            failures = 0
            events += 1
            cursor = self._take(message, cursor, delivered, result)
            self._at = cursor
        floor = (cursor or 0) - 2 * self.rewind_us
        result.state = {
            "cursor": cursor,
            "delivered": sorted([t, uri] for uri, t in delivered.items() if t >= floor),
            "failures": failures,
        }
        return result

    def _open(self, cursor: int | None) -> ClientConnection:
        if self._ws is not None and self._at == cursor:
            return self._ws
        self.close()
        self._ws = connect(
            self._url(None if cursor is None else max(cursor - self.rewind_us, 0)),
            open_timeout=self.open_timeout,
            max_size=4 * 1024 * 1024,
            user_agent_header="Kizuna",
        )
        self._at = cursor
        return self._ws

    def _url(self, cursor: int | None) -> str:
        query = {"wantedCollections": POST_COLLECTION} | ({"cursor": str(cursor)} if cursor is not None else {})
        return f"{self.url}?{urlencode(query)}"

    def _take(
        self, message: str | bytes, cursor: int | None, delivered: dict[str, int], result: CollectResult
    ) -> int | None:
        raw = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            return self._bad(PayloadError(f"Jetstream message is not JSON ({type(exc).__name__})"), raw, result, cursor)
        time_us = event.get("time_us") if isinstance(event, dict) else None
        if not isinstance(time_us, int) or isinstance(time_us, bool):
            return self._bad(PayloadError('Jetstream event has no integer "time_us"'), raw, result, cursor)
        cursor = time_us if cursor is None else max(cursor, time_us)
        try:
            post = parse_jetstream_event(event)
        except PayloadError as exc:
            return self._bad(exc, raw, result, cursor)
        if post is None or post.platform_post_id in delivered:
            return cursor
        try:
            wanted = self.match(post)
        except Exception as exc:  # a post that breaks the matcher is quarantined, not retried forever
            return self._bad(PayloadError(f"matcher failed on {post.platform_post_id}: {exc!r}"), raw, result, cursor)
        if wanted:
            delivered[post.platform_post_id] = time_us
            result.items.append(post)
        return cursor

    @staticmethod
    def _bad(error: PayloadError, raw: str, result: CollectResult, cursor: int | None) -> int | None:
        result.items.append(error)
        result.bad_payloads.append(raw)
        return cursor


# --- XRPC with app-password sessions ------------------------------------------------------------


class XrpcError(ConnectorError):
    """An XRPC call failed; `error` is the lexicon error name (ExpiredToken, RecordNotFound...)."""

    def __init__(self, message: str, *, status: int, error: str, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.status, self.error = status, error


class XrpcClient:
    """Call a PDS or AppView; with an identifier and app password, as that account.

    The session (accessJwt, refreshJwt, did, handle) is reused across processes through
    `state`, which the caller stores encrypted beside the credentials and hands back next
    time. An expired access token is refreshed with refreshSession; createSession (limited
    to 30 per 5 minutes and 300 a day) runs only when there is no usable session, and the
    client refuses with RateLimited before the platform would. `state` also carries the
    write log the publisher keeps for the hourly write budget.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        service: str = PDS,
        identifier: str = "",
        app_password: str = "",
        state: Mapping[str, Any] | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.http, self.service = http, service.rstrip("/")
        self.identifier, self.app_password = identifier, app_password
        self.state: dict[str, Any] = dict(state or {})
        self.clock = clock

    @property
    def did(self) -> str:
        self._ensure_session()
        return str(self.state["did"])

    def query(self, nsid: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.call("GET", nsid, params=params)

    def procedure(self, nsid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.call("POST", nsid, body=body)

    def call(
        self, method: str, nsid: str, *, params: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        if not self.identifier:
            return self._send(method, nsid, params=params, body=body, token=None)
        self._ensure_session()
        try:
            return self._send(method, nsid, params=params, body=body, token=self.state["accessJwt"])
        except XrpcError as exc:
            if exc.error not in {"ExpiredToken", "InvalidToken"}:
                raise
        self._refresh_session()
        return self._send(method, nsid, params=params, body=body, token=self.state["accessJwt"])

    def test_connection(self) -> str:
        if not self.identifier:
            return f"Bluesky {self.service} (no account: public reads only)"
        session = self.query("com.atproto.server.getSession")
        return f"Bluesky account @{session.get('handle', '?')} ({session.get('did', '?')}) on {self.service}"

    def _ensure_session(self) -> None:
        if not self.identifier:
            raise AuthFailed("Bluesky: this needs an account; add the handle and an app password to the source")
        if not self.state.get("accessJwt"):
            self._create_session()

    def _refresh_session(self) -> None:
        refresh = self.state.get("refreshJwt")
        if refresh:
            try:
                self._store_session(self._send("POST", "com.atproto.server.refreshSession", token=refresh))
                return
            except AuthFailed:
                pass
            except XrpcError as exc:
                if exc.status >= 500 or exc.status == 429:
                    raise
        self._create_session()

    def _create_session(self) -> None:
        now = self.clock()
        creates = [t for t in self.state.get("session_creates") or [] if isinstance(t, str)]
        times = sorted(
            datetime.fromisoformat(t) for t in creates if datetime.fromisoformat(t) > now - timedelta(days=1)
        )
        for window, limit in _SESSION_LIMITS:
            recent = [t for t in times if t > now - window]
            if len(recent) >= limit:
                raise RateLimited(
                    f"Bluesky: {len(recent)} sign-ins in the last {window}; waiting before another",
                    reset_at=recent[0] + window,
                )
        self.state["session_creates"] = [t.isoformat() for t in times] + [now.isoformat()]
        body = {"identifier": self.identifier, "password": self.app_password}
        try:
            self._store_session(self._send("POST", "com.atproto.server.createSession", body=body, token=None))
        except XrpcError as exc:
            if exc.status in {400, 401} and exc.error in {
                "AuthenticationRequired",
                "AccountTakedown",
                "InvalidRequest",
            }:
                raise AuthFailed(f"Bluesky refused the app password for {self.identifier}: {exc}") from exc
            raise

    def _store_session(self, doc: Mapping[str, Any]) -> None:
        if not doc.get("accessJwt") or not doc.get("did"):
            raise ConnectorError("Bluesky: the session answer has no accessJwt or did", retryable=False)
        for key in ("accessJwt", "refreshJwt", "did", "handle"):
            if doc.get(key):
                self.state[key] = doc[key]

    def _send(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        url = f"{self.service}/xrpc/{nsid}"
        headers = {"User-Agent": "Kizuna"} | ({"Authorization": f"Bearer {token}"} if token else {})
        try:
            response = self.http.request(method, url, params=params, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise ConnectorError(f"Bluesky {nsid}: cannot reach {self.service}: {type(exc).__name__}") from exc
        try:
            doc = response.json() if response.content else {}
        except ValueError:
            doc = None
        if response.status_code >= 400:
            raise self._error(nsid, response, doc if isinstance(doc, dict) else {})
        if not isinstance(doc, dict):
            raise ConnectorError(f"Bluesky {nsid}: the answer is not a JSON object", retryable=False)
        return doc

    def _error(self, nsid: str, response: httpx.Response, doc: Mapping[str, Any]) -> ConnectorError:
        status, error = response.status_code, str(doc.get("error") or "")
        message = f"Bluesky {nsid}: {status} {error}: {doc.get('message') or response.reason_phrase}"
        if status == 429:
            reset = from_unix(response.headers.get("ratelimit-reset"), default=self.clock() + timedelta(minutes=5))
            return RateLimited(message, reset_at=reset)
        if (
            status == 401
            and error not in {"ExpiredToken", "InvalidToken"}
            and nsid != "com.atproto.server.createSession"
        ):
            return AuthFailed(message)
        return XrpcError(message, status=status, error=error, retryable=status >= 500)


# --- threads and author feeds ------------------------------------------------------------------


def fetch_thread(
    client: XrpcClient, uri: str, *, parent_height: int = 20, depth: int = 6
) -> list[IncomingPost | PayloadError]:
    """Return a post's thread (app.bsky.feed.getPostThread): its parents root first, the post, then replies.

    Deleted, blocked and not-found posts in the thread are left out.
    """
    doc = client.query("app.bsky.feed.getPostThread", {"uri": uri, "parentHeight": parent_height, "depth": depth})
    thread = doc.get("thread")
    parents: list[IncomingPost | PayloadError] = []
    node = thread.get("parent") if isinstance(thread, dict) else None
    while isinstance(node, dict) and isinstance(node.get("post"), dict):
        parents.append(_view(node["post"]))
        node = node.get("parent")
    items = [*reversed(parents)]
    queue = [thread] if isinstance(thread, dict) and isinstance(thread.get("post"), dict) else []
    while queue:
        node = queue.pop(0)
        items.append(_view(node["post"]))
        queue.extend(r for r in node.get("replies") or [] if isinstance(r, dict) and isinstance(r.get("post"), dict))
    return items


def fetch_author_feed(
    client: XrpcClient, actor: str, *, limit: int = 30, cursor: str | None = None
) -> tuple[list[IncomingPost | PayloadError], str | None]:
    """Return an author's own posts and replies, newest first, and the cursor of the next page (app.bsky.feed.getAuthorFeed)."""
    params: dict[str, Any] = {"actor": actor, "limit": min(max(limit, 1), 100), "filter": "posts_with_replies"}
    if cursor:
        params["cursor"] = cursor
    doc = client.query("app.bsky.feed.getAuthorFeed", params)
    items = [
        _view(entry["post"])
        for entry in doc.get("feed") or []
        if isinstance(entry, dict) and isinstance(entry.get("post"), dict) and not entry.get("reason")
    ]
    next_cursor = doc.get("cursor")
    return items, next_cursor if isinstance(next_cursor, str) else None


def _view(view: object) -> IncomingPost | PayloadError:
    try:
        return parse_post_view(view)
    except PayloadError as exc:
        return exc
