"""The seams between Kizuna and a platform: collectors bring posts in, publishers send replies.

Pure (no Django): a connector gets its credentials and saved state as plain data and hands
back posts, new state and quota figures; the Django side stores them. Network access goes
through an injected `httpx.Client` (or a websocket URL), so tests fake it at the seam.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from kizuna.core.posts import IncomingPost, PayloadError


class ConnectorError(Exception):
    """A failure talking to a platform; `retryable` says whether backing off can help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class RateLimited(ConnectorError):
    """The platform said to wait; `reset_at` is when the window opens again."""

    def __init__(self, message: str, *, reset_at: datetime) -> None:
        super().__init__(message, retryable=True)
        self.reset_at = reset_at


class AuthFailed(ConnectorError):
    """Credentials were refused; an admin must fix them."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


@dataclass
class Quota:
    """What a source may still spend: requests in the current window, reads this month..."""

    name: str
    used: int
    limit: int | None = None
    resets_at: datetime | None = None


@dataclass
class CollectResult:
    """One poll's yield: posts or the reasons payloads could not become posts, and new state."""

    items: list[IncomingPost | PayloadError] = field(default_factory=list)
    # Raw text of each PayloadError's payload, same order as the errors in items, for quarantine.
    bad_payloads: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    quotas: list[Quota] = field(default_factory=list)
    # Seconds the caller should wait before polling again (backoff, budget pacing).
    wait_seconds: float = 0.0


@dataclass(frozen=True)
class ReplyTarget:
    """The post we answer, as the publisher needs it."""

    platform_post_id: str
    author_handle: str
    thread_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    platform_post_id: str
    url: str = ""


class Collector(Protocol):
    def collect(self, state: dict[str, Any]) -> CollectResult:
        """Fetch what is new since `state` (cursor, since_id, ETag...) and return it with the next state."""
        ...

    def test_connection(self) -> str:
        """Check the credentials and reachability; return a human-readable account description."""
        ...


class Publisher(Protocol):
    def test_connection(self) -> str:
        """Check that replies can be posted; return a human-readable account description."""
        ...

    def publish(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published:
        """Post a public reply to `target`."""
        ...

    def find_published(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published | None:
        """Look for a reply we may already have posted (reconcile after a crash); None if absent."""
        ...
