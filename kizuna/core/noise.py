"""Noise filters: which matched posts are not ours to answer, and why.

Pure decisions; the pipeline supplies the facts (is it a repost, who wrote it, how many
distinct authors posted the same normalized text lately).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from kizuna.core.normalize import normalize, normalize_handle

DEFAULT_BURST_AUTHORS = 5
DEFAULT_BURST_WINDOW_MINUTES = 60


@dataclass(frozen=True)
class CollectionSettings:
    """The `[collection]` table of kizuna.toml."""

    include_reposts: bool = False
    burst_authors: int = DEFAULT_BURST_AUTHORS
    burst_window_minutes: int = DEFAULT_BURST_WINDOW_MINUTES
    blocked_authors: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> CollectionSettings:
        """Build settings from stored or parsed data (already validated)."""
        burst = data.get("burst_authors", DEFAULT_BURST_AUTHORS)
        window = data.get("burst_window_minutes", DEFAULT_BURST_WINDOW_MINUTES)
        blocked = data.get("blocked_authors", ())
        return cls(
            include_reposts=bool(data.get("include_reposts", False)),
            burst_authors=int(burst) if isinstance(burst, int) else DEFAULT_BURST_AUTHORS,
            burst_window_minutes=int(window) if isinstance(window, int) else DEFAULT_BURST_WINDOW_MINUTES,
            blocked_authors=tuple(str(b) for b in blocked) if isinstance(blocked, list | tuple) else (),
        )


def text_fingerprint(text: str) -> str:
    """Return a hash of the normalized text with URLs, mentions and spaces dropped.

    Campaign copies differ in the tracking link or the @handle they tag; they are one text.
    """
    words = [w for w in normalize(text).split(" ") if not w.startswith(("http://", "https://", "@"))]
    return hashlib.sha1("".join(words).encode("utf-8"), usedforsecurity=False).hexdigest()


def exclusion_reason(
    *,
    is_repost: bool,
    author: str,
    own_accounts: Collection[str],
    settings: CollectionSettings,
    other_authors_same_text: int = 0,
) -> tuple[str, str] | None:
    """Return (reason code, detail) if a matched post must not open a case, else None.

    `other_authors_same_text` counts distinct other authors who posted the same
    fingerprint within the burst window.
    """
    handle = normalize_handle(author)
    if handle in {normalize_handle(a) for a in own_accounts}:
        return "own_account", f"@{handle} is one of our accounts"
    if handle in {normalize_handle(a) for a in settings.blocked_authors}:
        return "blocked_author", f"@{handle} is on the block list"
    if is_repost and not settings.include_reposts:
        return "repost", "reposts are excluded ([collection] include_reposts = false)"
    authors = other_authors_same_text + 1
    if settings.burst_authors > 1 and authors >= settings.burst_authors:
        return (
            "campaign_burst",
            f"the same text came from {authors} authors within {settings.burst_window_minutes} minutes",
        )
    return None
