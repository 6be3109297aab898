"""The platform-neutral shape of an incoming post, and the JSONL import format.

Every connector's parser produces an IncomingPost or raises PayloadError with a reason a
person can act on; the pipeline quarantines the payload with that reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_TEXT_CHARS = 20_000
PLATFORMS = frozenset({"demo", "x", "bluesky", "mastodon", "rss", "webhook", "import"})


class PayloadError(ValueError):
    """A payload that cannot become a post; str(exc) is the reason."""


@dataclass(frozen=True)
class IncomingPost:
    platform: str
    platform_post_id: str
    text: str
    author_handle: str
    created_at: datetime
    author_display_name: str = ""
    author_followers: int = 0
    url: str = ""
    lang: str = ""
    in_reply_to: str = ""
    thread_id: str = ""
    is_repost: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def parse_time(value: object, field_name: str = "created_at") -> datetime:
    """Parse an ISO 8601 time (a trailing Z allowed); naive times are taken as UTC."""
    if not isinstance(value, str) or not value:
        raise PayloadError(f'"{field_name}" must be an ISO 8601 time string, got {value!r}')
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise PayloadError(f'"{field_name}" is not an ISO 8601 time: {value!r}') from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _str(obj: dict[str, Any], key: str, *, required: bool) -> str:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise PayloadError(f'missing required field "{key}"')
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and key in {"id", "in_reply_to"}:
        return str(value)
    if not isinstance(value, str):
        raise PayloadError(f'"{key}" must be a string, got {type(value).__name__}')
    return value


def parse_jsonl_post(obj: object, *, default_platform: str | None = None) -> IncomingPost:
    """Turn one decoded line of the JSONL import format into an IncomingPost.

    Fields: id, text, author, created_at, platform; optional url, lang, in_reply_to,
    thread_id, is_repost, author_followers, author_name.
    """
    if not isinstance(obj, dict):
        raise PayloadError(f"expected a JSON object, got {type(obj).__name__}")
    platform = _str(obj, "platform", required=default_platform is None) or (default_platform or "")
    if platform not in PLATFORMS:
        raise PayloadError(f'unknown platform "{platform}" (expected one of {", ".join(sorted(PLATFORMS))})')
    text = _str(obj, "text", required=True)
    if len(text) > MAX_TEXT_CHARS:
        raise PayloadError(f'"text" is {len(text)} characters, more than the {MAX_TEXT_CHARS} a post may have')
    if "\x00" in text:
        raise PayloadError('"text" contains a NUL character')
    followers = obj.get("author_followers", 0)
    if isinstance(followers, bool) or not isinstance(followers, int) or followers < 0:
        raise PayloadError(f'"author_followers" must be a non-negative integer, got {followers!r}')
    is_repost = obj.get("is_repost", False)
    if not isinstance(is_repost, bool):
        raise PayloadError(f'"is_repost" must be true or false, got {is_repost!r}')
    post_id = _str(obj, "id", required=True)
    author = _str(obj, "author", required=True).lstrip("@")
    if not author:
        raise PayloadError('"author" is empty')
    in_reply_to = _str(obj, "in_reply_to", required=False)
    return IncomingPost(
        platform=platform,
        platform_post_id=post_id[:200],
        text=text,
        author_handle=author[:200],
        created_at=parse_time(obj.get("created_at")),
        author_display_name=_str(obj, "author_name", required=False)[:200],
        author_followers=followers,
        url=_str(obj, "url", required=False)[:500],
        lang=_str(obj, "lang", required=False)[:16],
        in_reply_to=in_reply_to[:200],
        thread_id=(_str(obj, "thread_id", required=False) or in_reply_to or post_id)[:200],
        is_repost=is_repost,
        raw=obj,
    )


def decode_jsonl_line(line: str | bytes) -> object:
    """Decode one JSONL line, raising PayloadError with the decoder's position on failure."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"invalid JSON at column {exc.colno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise PayloadError(f"not UTF-8 (byte {exc.start})") from None
