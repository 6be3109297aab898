"""Collect posts from X (API v2): recent-search polling, our mentions, and the filtered stream.

Reads cost money on X, so every collector counts the posts it is sent and paces itself
against a monthly read budget: when spend runs ahead of the share of the month that has
passed, it asks to be called later (`wait_seconds`) instead of running dry mid-month.
Rate limits come as `x-rate-limit-limit/remaining/reset` (Unix seconds; X sends no
Retry-After). Our own posts are left to the pipeline, which treats the source's handle as ours.
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

import httpx

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.sources.backoff import Clock, Sleep, backoff_delay, from_unix, real_sleep, seconds_until, split_lines
from kizuna.sources.backoff import utc_now as _utc_now
from kizuna.sources.base import AuthFailed, CollectResult, ConnectorError, Quota, RateLimited
from kizuna.sources.x.parser import parse_x_response, parse_x_stream_line

API = "https://api.x.com"
TWEET_FIELDS = "created_at,lang,conversation_id,referenced_tweets,author_id,note_tweet"
USER_FIELDS = "username,name,public_metrics"
EXPANSIONS = "author_id,referenced_tweets.id"
MENTIONS = "@mentions"  # the key of our mentions timeline among the per-rule cursors
_POST_PARAMS = {"expansions": EXPANSIONS, "user.fields": USER_FIELDS, "tweet.fields": TWEET_FIELDS}


class XDuplicate(ConnectorError):
    """X refused a post as a duplicate of one the account already made (403)."""


class XTokenRejected(AuthFailed):
    """X answered 401: the token is wrong, revoked or (for a user token) expired."""


@dataclass(frozen=True)
class RateWindow:
    limit: int
    remaining: int
    reset_at: datetime


class XApi:
    """A thin X API v2 client: bearer auth, JSON, errors and rate windows made readable."""

    def __init__(self, http: httpx.Client, token: str, *, base_url: str = API, clock: Clock = _utc_now) -> None:
        self.http, self.token, self.base_url, self.clock = http, token, base_url.rstrip("/"), clock
        self.windows: dict[str, RateWindow] = {}

    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        return self.request("GET", path, params=params)

    def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: object = None
    ) -> dict[str, Any]:
        request = self.http.build_request(
            method, self.base_url + path, params=params, json=body, headers=self.headers()
        )
        return self.decode(self.send(request), request)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "User-Agent": "Kizuna"}

    def send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        try:
            response = self.http.send(request, stream=stream)
        except httpx.TransportError as exc:
            raise ConnectorError(f"X: cannot reach {request.url.host}: {type(exc).__name__}: {exc}") from exc
        self._note_window(request.url.path, response)
        if response.status_code >= 400:
            if stream:
                response.read()
                response.close()
            raise self.error(request, response)
        return response

    def decode(self, response: httpx.Response, request: httpx.Request) -> dict[str, Any]:
        try:
            doc = response.json()
        except ValueError:
            raise ConnectorError(f"X {request.method} {request.url.path}: the answer is not JSON") from None
        if not isinstance(doc, dict):
            raise ConnectorError(f"X {request.method} {request.url.path}: expected a JSON object")
        return doc

    def window(self, path: str) -> RateWindow | None:
        return self.windows.get(path)

    def error(self, request: httpx.Request, response: httpx.Response) -> ConnectorError:
        status = response.status_code
        where = f"X {request.method} {request.url.path}"
        problem = _problem(response)
        if status == 429:
            reset = from_unix(response.headers.get("x-rate-limit-reset"), default=self.clock() + timedelta(minutes=15))
            return RateLimited(f"{where}: rate limited until {reset:%H:%M:%S} UTC ({problem})", reset_at=reset)
        if status == 401:
            return XTokenRejected(f"{where}: X refused the token (401 Unauthorized: {problem}); renew it in the source")
        if status == 403 and "duplicate" in problem.lower():
            return XDuplicate(f"{where}: {problem}", retryable=False)
        if status == 403:
            return AuthFailed(f"{where}: not allowed (403 Forbidden: {problem}); check the app's access level")
        return ConnectorError(f"{where}: {status} {problem}", retryable=status >= 500)

    def _note_window(self, path: str, response: httpx.Response) -> None:
        headers = response.headers
        try:
            limit, remaining = int(headers["x-rate-limit-limit"]), int(headers["x-rate-limit-remaining"])
        except (KeyError, ValueError):
            return
        reset = from_unix(headers.get("x-rate-limit-reset"), default=self.clock() + timedelta(minutes=15))
        self.windows[path] = RateWindow(limit, remaining, reset)


def _problem(response: httpx.Response) -> str:
    try:
        doc = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    if not isinstance(doc, dict):
        return "no details"
    parts = [str(doc[k]) for k in ("title", "detail") if doc.get(k)]
    for error in doc.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
    return ": ".join(dict.fromkeys(parts))[:300] or response.reason_phrase or "no details"


# --- the monthly read budget -------------------------------------------------------------------


@dataclass(frozen=True)
class ReadBudget:
    """Posts we may read per billing month; `reset_day` is the day of the month X resets the cap.

    `burst_share` lets spend run that share of the month's budget ahead of the clock, so a
    busy morning at the start of the month is not throttled at once.
    """

    monthly_limit: int | None = None
    reset_day: int = 1
    burst_share: float = 0.02

    def cycle(self, now: datetime) -> tuple[datetime, datetime]:
        return _cycle(now, self.reset_day)

    def allowance(self, used: int, now: datetime) -> int | None:
        """How many more posts may be read now without running ahead of the month; None if unlimited."""
        if self.monthly_limit is None:
            return None
        start, end = self.cycle(now)
        share = (now - start) / (end - start)
        return max(int(self.monthly_limit * min(1.0, share + self.burst_share)) - used, 0)

    def wait(self, used: int, now: datetime) -> float:
        """Seconds until the clock catches up with spend (0 if reading may go on now)."""
        if self.monthly_limit is None or (allowance := self.allowance(used, now)) is None or allowance > 0:
            return 0.0
        start, end = self.cycle(now)
        if used >= self.monthly_limit:
            return seconds_until(end, now)
        share = (used + 1) / self.monthly_limit - self.burst_share
        return seconds_until(start + (end - start) * share, now)


def _cycle(now: datetime, reset_day: int) -> tuple[datetime, datetime]:
    def on(year: int, month: int) -> datetime:
        day = min(max(reset_day, 1), 28)  # every month has a 28th
        return now.replace(year=year, month=month, day=day, hour=0, minute=0, second=0, microsecond=0)

    start = on(now.year, now.month)
    if start > now:
        start = on(now.year - (now.month == 1), 12 if now.month == 1 else now.month - 1)
    end = on(start.year + (start.month == 12), 1 if start.month == 12 else start.month + 1)
    return start, end


def _reads(state: Mapping[str, Any], budget: ReadBudget, now: datetime) -> dict[str, Any]:
    cycle = budget.cycle(now)[0].date().isoformat()
    reads = state.get("reads")
    if isinstance(reads, dict) and reads.get("cycle") == cycle and isinstance(reads.get("used"), int):
        return {"cycle": cycle, "used": reads["used"]}
    return {"cycle": cycle, "used": 0}


def _quotas(api: XApi, budget: ReadBudget, used: int, now: datetime, path: str) -> list[Quota]:
    quotas = [Quota("reads this month", used, budget.monthly_limit, budget.cycle(now)[1])]
    window = api.window(path)
    if window is not None:
        quotas.append(Quota("requests (15 min)", window.limit - window.remaining, window.limit, window.reset_at))
    return quotas


def _posts_read(doc: Mapping[str, Any]) -> int:
    # Billing counts every post sent, and referenced posts in `includes` are posts too: count
    # them, so the budget errs on the side of stopping early.
    data, includes = doc.get("data"), doc.get("includes")
    count = len(data) if isinstance(data, list) else int(isinstance(data, dict))
    tweets = includes.get("tweets") if isinstance(includes, dict) else None
    return count + (len(tweets) if isinstance(tweets, list) else 0)


def page_items(doc: Mapping[str, Any]) -> tuple[list[IncomingPost | PayloadError], list[str]]:
    """Parse one response post by post, so that each bad post carries its own raw text.

    `errors` beside `data` are partial errors about expansions (a deleted quoted post, a
    suspended author of a referenced post): the posts themselves were delivered, so they
    are not quarantined. A response with errors and no data is.
    """
    data = doc.get("data")
    if data is None:
        items = parse_x_response(doc)
        return items, [json.dumps(doc, ensure_ascii=False)[:100_000] for i in items if isinstance(i, PayloadError)]
    posts = data if isinstance(data, list) else [data]
    items, bad = [], []
    for post in posts:
        for item in parse_x_response({"data": post, "includes": doc.get("includes")}):
            items.append(item)
            if isinstance(item, PayloadError):
                bad.append(json.dumps(post, ensure_ascii=False))
    return items, bad


# --- recent search and mentions ----------------------------------------------------------------


class XSearchCollector:
    """Poll recent search once per rule (and our mentions timeline), newest since the last poll.

    `queries` maps our rule id to an X query (see `to_x_rule`). State keys: `since_ids`
    (per rule id, and "@mentions"), `pending` (a page chain cut short by `max_pages` or the
    budget, resumed next time so nothing falls in between), `reads` ({"cycle", "used"}).
    A rule polled for the first time starts from now: one page, no backfill of the week.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        bearer_token: str,
        queries: Mapping[str, str],
        user_id: str = "",
        budget: ReadBudget | None = None,
        poll_seconds: float = 60.0,
        max_pages: int = 3,
        page_size: int = 100,
        base_url: str = API,
        clock: Clock = _utc_now,
    ) -> None:
        self.api = XApi(http, bearer_token, base_url=base_url, clock=clock)
        self.queries, self.user_id = dict(queries), user_id
        self.budget = budget or ReadBudget()
        self.poll_seconds, self.max_pages, self.page_size = poll_seconds, max_pages, min(max(page_size, 10), 100)
        self.clock = clock

    def test_connection(self) -> str:
        if self.user_id:
            doc = self.api.get(f"/2/users/{self.user_id}", {"user.fields": "username,name"})
            user = doc.get("data") or {}
            return f"X account @{user.get('username', '?')} ({user.get('name', '')}), id {self.user_id}"
        usage = self.api.get("/2/usage/tweets").get("data") or {}
        return f"X project {usage.get('project_id', '?')}: {usage.get('project_usage', '?')} of {usage.get('project_cap', '?')} posts read this cycle"

    def collect(self, state: dict[str, Any]) -> CollectResult:
        now = self.clock()
        reads = _reads(state, self.budget, now)
        since: dict[str, str] = {k: v for k, v in (state.get("since_ids") or {}).items() if k in self._keys()}
        pending: dict[str, Any] = {k: v for k, v in (state.get("pending") or {}).items() if k in self._keys()}
        result = CollectResult()
        seen: set[str] = set()
        wait = self.poll_seconds
        for key, path, params in self._sources():
            allowance = self.budget.allowance(reads["used"], now)
            if allowance is not None and allowance < (5 if key == MENTIONS else 10):
                break
            window = self.api.window(path)
            if window is not None and window.remaining == 0 and window.reset_at > now:
                wait = max(wait, seconds_until(window.reset_at, now))
                continue
            try:
                self._poll(key, path, params, since, pending, reads, result, seen)
            except RateLimited as exc:
                if result.items:  # keep what this call got; the caller waits for the window
                    wait = max(wait, seconds_until(exc.reset_at, now))
                    break
                raise
        wait = max(wait, self.budget.wait(reads["used"], self.clock()))
        result.state = {"since_ids": since, "pending": pending, "reads": reads}
        result.quotas = _quotas(self.api, self.budget, reads["used"], now, "/2/tweets/search/recent")
        result.wait_seconds = wait
        return result

    def _keys(self) -> set[str]:
        return set(self.queries) | ({MENTIONS} if self.user_id else set())

    def _sources(self) -> Iterator[tuple[str, str, dict[str, str]]]:
        if self.user_id:
            yield MENTIONS, f"/2/users/{self.user_id}/mentions", {}
        for key, query in self.queries.items():
            yield key, "/2/tweets/search/recent", {"query": query}

    def _poll(
        self,
        key: str,
        path: str,
        params: dict[str, str],
        since: dict[str, str],
        pending: dict[str, Any],
        reads: dict[str, Any],
        result: CollectResult,
        seen: set[str],
    ) -> None:
        query = params.get("query", "")
        chain = pending.pop(key, None)
        if not isinstance(chain, dict) or chain.get("query") != query:
            chain = None
        token, newest = (chain["token"], chain.get("newest")) if chain else (None, None)
        since_id = since.get(key)
        token_name = "next_token" if "query" in params else "pagination_token"
        for page in range(self.max_pages):
            allowance = self.budget.allowance(reads["used"], self.clock())
            size = self.page_size if allowance is None else min(self.page_size, allowance)
            if size < (5 if key == MENTIONS else 10):
                break
            request = {**params, **_POST_PARAMS, "max_results": str(size)}
            if since_id:
                request["since_id"] = since_id
            if token:
                request[token_name] = token
            doc = self.api.get(path, request)
            reads["used"] += _posts_read(doc)
            meta: dict[str, Any] = doc["meta"] if isinstance(doc.get("meta"), dict) else {}
            if page == 0 and not token:
                newest = meta.get("newest_id") or newest
            items, bad = page_items(doc)
            for item in items:
                if isinstance(item, IncomingPost):
                    if item.platform_post_id in seen:
                        continue
                    seen.add(item.platform_post_id)
                result.items.append(item)
            result.bad_payloads.extend(bad)
            token = meta.get("next_token")
            if not token or not since_id:
                token = None  # a first poll takes one page: the week before is not ours to pay for
                break
        if token:
            pending[key] = {"token": token, "newest": newest, "query": query}
        elif newest:
            since[key] = str(newest)


# --- the filtered stream -----------------------------------------------------------------------


class XStreamCollector:
    """Read the filtered stream (`GET /2/tweets/search/stream`) for up to `max_seconds`.

    The connection stays open between calls; a drop is retried with backoff (5 s doubling
    for HTTP errors, 60 s doubling for 429, 1 s for network errors, as X asks). X keeps the
    line alive with a blank line every 20 s, so a call may overrun `max_seconds` by that
    much. `backfill_minutes` (Pro and above) asks X to replay what a reconnect missed;
    replayed posts already delivered are dropped. State keys: `reads`, `failures`.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        bearer_token: str,
        budget: ReadBudget | None = None,
        max_seconds: float = 30.0,
        max_posts: int = 500,
        backfill_minutes: int = 0,
        read_timeout: float = 30.0,
        base_url: str = API,
        clock: Clock = _utc_now,
        sleep: Sleep = real_sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.api = XApi(http, bearer_token, base_url=base_url, clock=clock)
        self.budget = budget or ReadBudget()
        self.max_seconds, self.max_posts, self.backfill_minutes = max_seconds, max_posts, backfill_minutes
        self.read_timeout = read_timeout
        self.clock, self.sleep, self.monotonic, self.rng = clock, sleep, monotonic, rng
        self._response: httpx.Response | None = None
        self._lines: Iterator[bytes] | None = None
        self._connected_before = False
        self._recent: deque[str] = deque(maxlen=5000)

    def test_connection(self) -> str:
        rules = self.api.get("/2/tweets/search/stream/rules").get("data") or []
        return f"X filtered stream: {len(rules)} rule(s) active"

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        self._response = self._lines = None

    def collect(self, state: dict[str, Any]) -> CollectResult:
        deadline = self.monotonic() + self.max_seconds
        reads = _reads(state, self.budget, self.clock())
        failures = int(state.get("failures") or 0)
        result = CollectResult()
        delivered = 0
        while self.monotonic() < deadline and delivered < self.max_posts:
            if (pause := self.budget.wait(reads["used"], self.clock())) > 0:
                self.close()  # ahead of the month's budget: stop paying until the clock catches up
                result.wait_seconds = pause
                break
            try:
                lines = self._connect()
                line = next(lines)
            except (ConnectorError, httpx.TransportError, httpx.StreamError, StopIteration) as exc:
                self.close()
                if isinstance(exc, ConnectorError) and not exc.retryable:
                    raise  # refused credentials or a request X will never accept: an admin must act
                failures += 1
                delay = self._delay(exc, failures)
                if isinstance(exc, RateLimited) and not result.items:
                    reset = max(exc.reset_at, self.clock() + timedelta(seconds=delay))
                    raise RateLimited(str(exc), reset_at=reset) from exc
                if self.monotonic() + delay >= deadline:
                    result.wait_seconds = delay
                    break
                self.sleep(delay)
                continue
            failures = 0
            delivered += self._take(line, reads, result)
        result.state = {"reads": reads, "failures": failures}
        result.quotas = _quotas(self.api, self.budget, reads["used"], self.clock(), "/2/tweets/search/stream")
        return result

    def _take(self, line: bytes, reads: dict[str, Any], result: CollectResult) -> int:
        try:
            post = parse_x_stream_line(line)
        except PayloadError as exc:
            if b"operational-disconnect" in line:
                self.close()  # X is restarting the stream: reconnect rather than quarantine
                return 0
            result.items.append(exc)
            result.bad_payloads.append(line.decode("utf-8", "replace"))
            return 0
        if post is None:
            return 0  # keep-alive
        reads["used"] += 1
        if post.platform_post_id in self._recent:
            return 0  # replayed by backfill_minutes after a reconnect
        self._recent.append(post.platform_post_id)
        result.items.append(post)
        return 1

    def _connect(self) -> Iterator[bytes]:
        if self._lines is not None:
            return self._lines
        params = dict(_POST_PARAMS)
        if self._connected_before and self.backfill_minutes:
            params["backfill_minutes"] = str(min(self.backfill_minutes, 5))
        request = self.api.http.build_request(
            "GET",
            self.api.base_url + "/2/tweets/search/stream",
            params=params,
            headers=self.api.headers(),
            timeout=httpx.Timeout(10.0, read=self.read_timeout),
        )
        self._response = self.api.send(request, stream=True)
        self._connected_before = True
        self._lines = split_lines(self._response.iter_bytes())
        return self._lines

    def _delay(self, exc: Exception, failures: int) -> float:
        if isinstance(exc, RateLimited):
            return max(
                backoff_delay(failures, base=60, cap=900, rng=self.rng), seconds_until(exc.reset_at, self.clock())
            )
        if isinstance(exc, ConnectorError) and not isinstance(exc.__cause__, httpx.TransportError):
            return backoff_delay(failures, base=5, cap=320, rng=self.rng)
        return backoff_delay(failures, base=1, cap=16, rng=self.rng)
