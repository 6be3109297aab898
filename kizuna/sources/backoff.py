"""Waiting between reconnects and polls, shared by every connector.

Exponential backoff with jitter: after n consecutive failures wait about base * 2**n seconds,
capped, and randomized so that a thousand sources dropped by the same outage do not all
reconnect in the same second. Clock, sleep and randomness are injected so tests run instantly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


def utc_now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def backoff_delay(failures: int, *, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Return the seconds to wait after `failures` consecutive failures (0 means none: no wait).

    "Equal jitter": half the exponential step is kept, half is random, so the wait never
    collapses to zero (a hot reconnect loop) yet spreads out.
    """
    if failures <= 0:
        return 0.0
    ceiling = min(cap, base * 2.0 ** min(failures - 1, 32))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def seconds_until(moment: datetime, now: datetime) -> float:
    """Return how long until `moment`, never negative."""
    return max((moment - now).total_seconds(), 0.0)


def from_unix(value: str | None, *, default: datetime) -> datetime:
    """Parse a header holding Unix seconds (X's and Bluesky's rate-limit reset) into a UTC time."""
    try:
        return datetime.fromtimestamp(int(float(value or "")), UTC)
    except (ValueError, OverflowError, OSError):
        return default


def from_iso(value: str | None, *, default: datetime) -> datetime:
    """Parse a header holding an ISO 8601 time (Mastodon's X-RateLimit-Reset) into an aware time."""
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return default
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def real_sleep(seconds: float) -> None:
    """Sleep for real (the default `Sleep`)."""
    if seconds > 0:
        time.sleep(seconds)


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Yield the lines of a byte stream, without their ends (CR LF, LF or a lone CR).

    Streaming bodies (X's filtered stream, SSE) are split here rather than with
    str.splitlines, which would also break a line at U+2028 or U+0085 inside a JSON string.
    """
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        start = 0
        while True:
            cut = _next_break(buffer, start)
            if cut < 0:
                break
            if buffer[cut : cut + 1] == b"\r" and cut + 1 == len(buffer):
                break  # a CR at the end of a chunk may be half of a CR LF
            yield buffer[start:cut]
            start = cut + 2 if buffer[cut : cut + 2] == b"\r\n" else cut + 1
        buffer = buffer[start:]
    if buffer:
        yield buffer.removesuffix(b"\r")


def _next_break(buffer: bytes, start: int) -> int:
    lf, cr = buffer.find(b"\n", start), buffer.find(b"\r", start)
    if lf < 0 or cr < 0:
        return max(lf, cr)
    return min(lf, cr)
