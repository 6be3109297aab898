"""Turn Mastodon REST and streaming payloads (Status entities, SSE) into IncomingPost.

Pure functions: no Django, no network. A payload that cannot become a post raises (or, in a
stream, carries) a PayloadError naming the field; nothing else is raised.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from kizuna.core.posts import MAX_TEXT_CHARS, IncomingPost, PayloadError, parse_time
from kizuna.sources.payload import check_json as _check_json
from kizuna.sources.payload import optional_str as _optional_str
from kizuna.sources.payload import say as _say

PLATFORM = "mastodon"
_MAX_ID = 200  # the width of Post.platform_post_id; an id is never cut short
_MAX_URL = 500
# Markup costs characters: a link-heavy status is several times longer as HTML than as text.
_MAX_HTML_CHARS = 25 * MAX_TEXT_CHARS
_ACCT = re.compile(r"[^\s@/]+(@[^\s@/]+)?")
_SSE_LINE = re.compile(r"\r\n|\r|\n")  # SSE lines end only so; str.splitlines() would also split on U+2028
_PARAGRAPH = {"p", "div", "blockquote", "pre", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
_LINE = {"li", "tr", "dt", "dd"}
_INVISIBLE = {"script", "style", "template"}
_STATUS_EVENTS = {"update", "notification"}

StreamItem = tuple[str, IncomingPost | PayloadError | str]


def parse_status(status: object, *, instance: str | None = None) -> IncomingPost:
    """Parse one Mastodon Status entity.

    `instance` is the host the status was fetched from (e.g. "mastodon.social"); with it,
    local accounts (whose `acct` has no domain) get "@instance" so that handles are unique
    across servers. A reblog is the reblogger's post with is_repost and the original's text.
    Status ids are those of the instance that served the status.
    """
    if not isinstance(status, dict):
        raise PayloadError(f"expected a Mastodon status object, got {type(status).__name__}")
    post_id = _id(status.get("id"), "id")
    try:
        _check_json(status, "")
        return _build_post(status, post_id, instance)
    except PayloadError as exc:
        raise PayloadError(f"status {post_id}: {exc}") from None


def parse_sse_stream(text: str, *, instance: str | None = None) -> list[StreamItem]:
    """Parse a Server-Sent-Events body of the streaming API into (event, item) pairs.

    `update` and `notification` (with a status) give the parsed status or a PayloadError;
    `delete` gives the deleted status id. Heartbeats, other events (status.update,
    conversation, filters_changed, ...) and an unfinished event at the end are left out.
    """
    if not isinstance(text, str):
        raise PayloadError(f"expected the event stream as text, got {type(text).__name__}")
    items: list[StreamItem] = []
    event = ""
    data: list[str] = []
    *lines, _unfinished = _SSE_LINE.split(text)
    for line in lines:
        if not line:
            if data:
                item = _stream_item(event or "message", "\n".join(data), instance)
                if item is not None:
                    items.append(item)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    return items


def html_to_text(html: str) -> str:
    """Render status HTML as the plain text the person typed.

    <br> becomes a newline and a paragraph break a blank line (Mastodon writes the person's
    blank lines as </p><p>); tags are dropped and entities unescaped.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


def _build_post(status: dict[str, Any], post_id: str, instance: str | None) -> IncomingPost:
    account = status.get("account")
    if not isinstance(account, dict):
        raise PayloadError(f'"account" must be an object, got {type(account).__name__}')
    acct = account.get("acct")
    if not isinstance(acct, str) or not _ACCT.fullmatch(acct.lstrip("@")) or len(acct) > _MAX_ID:
        raise PayloadError(f'"account.acct" must be user or user@domain, got {_say(acct)}')
    acct = acct.lstrip("@")
    if instance and "@" not in acct:
        acct = f"{acct}@{instance}"
    if len(acct) > _MAX_ID:
        raise PayloadError(f'"account.acct" with its instance is longer than {_MAX_ID} characters')
    followers = account.get("followers_count", 0)
    if followers is None:
        followers = 0
    if isinstance(followers, bool) or not isinstance(followers, int):
        raise PayloadError(f'"account.followers_count" must be an integer, got {_say(followers)}')
    reblog = status.get("reblog")
    if reblog is not None and not isinstance(reblog, dict):
        raise PayloadError(f'"reblog" must be a status object or null, got {type(reblog).__name__}')
    # A reblog's own content is empty; what it says is the reblogged status.
    shown, where = (reblog, "reblog.") if reblog is not None else (status, "")
    in_reply_to = status.get("in_reply_to_id")
    in_reply_to = _id(in_reply_to, "in_reply_to_id") if in_reply_to is not None else ""
    return IncomingPost(
        platform=PLATFORM,
        platform_post_id=post_id,
        text=_status_text(shown, where),
        author_handle=acct,
        created_at=parse_time(status.get("created_at"), "created_at"),
        author_display_name=_optional_str(account.get("display_name"), "account.display_name")[:200],
        author_followers=max(followers, 0),
        url=_url(status, "") or (_url(shown, where) if reblog is not None else ""),
        lang=_lang(status.get("language"), "language") or _lang(shown.get("language"), f"{where}language"),
        in_reply_to=in_reply_to,
        thread_id=in_reply_to or post_id,
        is_repost=reblog is not None,
        raw=status,
    )


def _status_text(status: dict[str, Any], where: str) -> str:
    content = _optional_str(status.get("content"), f"{where}content")
    if len(content) > _MAX_HTML_CHARS:
        raise PayloadError(f'"{where}content" is {len(content)} characters of HTML, more than {_MAX_HTML_CHARS}')
    text = html_to_text(content)
    spoiler = _optional_str(status.get("spoiler_text"), f"{where}spoiler_text").strip()
    if spoiler:
        text = f"{spoiler}\n\n{text}" if text else spoiler
    if len(text) > MAX_TEXT_CHARS:
        raise PayloadError(
            f'"{where}content" is {len(text)} characters, more than the {MAX_TEXT_CHARS} a post may have'
        )
    return text


def _stream_item(event: str, data: str, instance: str | None) -> StreamItem | None:
    if event == "delete":
        status_id = data.strip()
        if not status_id or len(status_id) > _MAX_ID or any(c.isspace() for c in status_id):
            return event, PayloadError(f"delete event: data must be a status id, got {_say(data)}")
        return event, status_id
    if event not in _STATUS_EVENTS:
        return None
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        return event, PayloadError(f"{event} event: data is not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})")
    except (ValueError, RecursionError) as exc:
        return event, PayloadError(f"{event} event: data is not JSON we can read: {type(exc).__name__}")
    if event == "notification":
        if not isinstance(obj, dict):
            return event, PayloadError(f"notification event: data must be an object, got {type(obj).__name__}")
        if obj.get("status") is None:
            return None  # a follow, a favourite of a deleted status ...: nothing to read
        obj = obj["status"]
    try:
        return event, parse_status(obj, instance=instance)
    except PayloadError as exc:
        return event, PayloadError(f"{event} event: {exc}")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str | int] = []  # text, or a break: 1 = newline, 2 = blank line
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self.hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _PARAGRAPH:
            self.parts.append(2)
        elif tag in _LINE:
            self.parts.append(1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _PARAGRAPH:
            self.parts.append(2)
        elif tag in _LINE:
            self.parts.append(1)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def text(self) -> str:
        out: list[str] = []
        pending = 0
        for part in self.parts:
            if isinstance(part, int):
                pending = max(pending, part)
            elif pending and not part.strip():
                continue  # source-code whitespace between blocks is not the person's
            else:
                if pending and out:
                    out.append("\n" * pending)
                pending = 0
                out.append(part)
        return "".join(out).strip()


def _id(value: object, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > _MAX_ID or any(c.isspace() for c in value):
        raise PayloadError(f'"{where}" must be a status id string, got {_say(value)}')
    return value


def _url(status: dict[str, Any], where: str) -> str:
    url = _optional_str(status.get("url"), f"{where}url")
    # Shown to operators as a link: only http(s), and only what fits Post.url.
    return url if url.startswith(("https://", "http://")) and len(url) <= _MAX_URL else ""


def _lang(value: object, where: str) -> str:
    lang = _optional_str(value, where)
    return lang if len(lang) <= 16 else ""
