"""Readers for `kizuna import --format`: recorded or exported payloads of each platform.

Each reader yields (where, item, raw) for every payload in a file: `item` is a post, a
PayloadError with the reason (quarantined), or None for a payload that is not a post at all
(a Jetstream like or identity event, a deleted status): counted as skipped, not an error.
Recorded HTTP cassettes (a list of {request, response}) are read through their response bodies.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from kizuna.core.posts import IncomingPost, PayloadError, decode_jsonl_line, parse_jsonl_post
from kizuna.sources.bluesky.parser import parse_jetstream_event
from kizuna.sources.mastodon.parser import parse_sse_stream, parse_status
from kizuna.sources.rss.parser import parse_feed
from kizuna.sources.x.parser import parse_x_response

Item = tuple[str, IncomingPost | PayloadError | None, str]
FORMATS = ("jsonl", "x", "jetstream", "mastodon", "rss")


def _raw(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _documents(data: bytes) -> Iterator[tuple[str, object]]:
    """A JSON document, a JSON array of cassette interactions, or JSONL: each body with where it was."""
    try:
        whole = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        for number, line in enumerate(data.splitlines(), 1):
            if line.strip():
                try:
                    yield f"line {number}", decode_jsonl_line(line)
                except PayloadError as exc:
                    yield f"line {number}", exc
        return
    if isinstance(whole, list) and whole and all(isinstance(i, dict) and "response" in i for i in whole):
        for n, interaction in enumerate(whole, 1):
            body = (interaction.get("response") or {}).get("body")
            if isinstance(body, str):
                with contextlib.suppress(json.JSONDecodeError):
                    body = json.loads(body)
            yield f"interaction {n}", body
    else:
        yield "document", whole


def _per_line(data: bytes, parse: Callable[[object], IncomingPost | None]) -> Iterator[Item]:
    """One JSON payload per line: decode and parse each, naming the line of any error."""
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        raw = line.decode("utf-8", "replace")
        try:
            yield f"line {number}", parse(decode_jsonl_line(line)), raw
        except PayloadError as exc:
            yield f"line {number}", exc, raw


def read_jsonl(data: bytes) -> Iterator[Item]:
    return _per_line(data, parse_jsonl_post)


def read_x(data: bytes) -> Iterator[Item]:
    for where, doc in _documents(data):
        if isinstance(doc, PayloadError):
            yield where, doc, ""
            continue
        if not isinstance(doc, dict) or not ({"data", "errors"} & set(doc)) or _holds_no_posts(doc):
            yield where, None, _raw(doc)  # a user, counts or rules response: no posts in it
            continue
        for n, item in enumerate(parse_x_response(doc), 1):
            yield f"{where} item {n}", item, _raw(item.raw if isinstance(item, IncomingPost) else doc)


def _holds_no_posts(doc: dict[str, Any]) -> bool:
    """A user lookup, post counts or stream rules: `data` whose items have no post text."""
    data = doc.get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    return bool(items) and all(isinstance(i, dict) and "text" not in i for i in items)


def read_jetstream(data: bytes) -> Iterator[Item]:
    return _per_line(data, parse_jetstream_event)


def _statuses(doc: object) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        if "statuses" in doc:  # search results
            return list(doc.get("statuses") or [])
        if "ancestors" in doc or "descendants" in doc:  # a status context
            return [*(doc.get("ancestors") or []), *(doc.get("descendants") or [])]
        if "status" in doc and "type" in doc:  # a notification
            return [doc["status"]] if doc.get("status") else []
        return [doc]
    return []


def read_mastodon(data: bytes) -> Iterator[Item]:
    text = data.decode("utf-8", "replace")
    if text.lstrip().startswith(("event:", "#", ":", "data:")):
        for n, (event, item) in enumerate(parse_sse_stream(text), 1):
            if isinstance(item, IncomingPost | PayloadError):
                yield f"event {n} ({event})", item, _raw(item.raw if isinstance(item, IncomingPost) else event)
            else:
                yield f"event {n} ({event})", None, str(item)
        return
    for where, doc in _documents(data):
        if isinstance(doc, PayloadError):
            yield where, doc, ""
            continue
        for n, status in enumerate(_statuses(doc), 1):
            try:
                yield f"{where} status {n}", parse_status(status), _raw(status)
            except PayloadError as exc:
                yield f"{where} status {n}", exc, _raw(status)


def read_rss(data: bytes, *, feed_url: str) -> Iterator[Item]:
    for n, item in enumerate(parse_feed(data, feed_url=feed_url), 1):
        yield f"entry {n}", item, _raw(item.raw if isinstance(item, IncomingPost) else "")


def read_items(fmt: str, data: bytes, *, name: str) -> Iterator[Item]:
    """Yield every payload of a file in the given format."""
    if fmt == "jsonl":
        return read_jsonl(data)
    if fmt == "x":
        return read_x(data)
    if fmt == "jetstream":
        return read_jetstream(data)
    if fmt == "mastodon":
        return read_mastodon(data)
    if fmt == "rss":
        return read_rss(data, feed_url=f"https://import.invalid/{name}")
    raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
