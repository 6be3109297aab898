"""Turn Bluesky payloads (Jetstream events, app.bsky.feed.defs#postView) into IncomingPost.

Pure functions over decoded JSON: no Django, no network. A payload that cannot become a post
raises PayloadError naming the field; events that are not posts (likes, follows, deletes,
identity and account events) are simply not posts and give None.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

from kizuna.core.posts import MAX_TEXT_CHARS, IncomingPost, PayloadError, parse_time
from kizuna.sources.payload import check_json as _check_json
from kizuna.sources.payload import optional_str as _optional_str
from kizuna.sources.payload import say as _say

PLATFORM = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
# Syntax from the AT Protocol specs (atproto.com/specs/did, /specs/record-key); checking it
# keeps a hostile DID or record key from bending the URLs we build from them.
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._-]")
_RKEY = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9._:~-]{1,512}")
_POST_URI = re.compile(
    r"at://(?P<did>did:[a-z]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._-])/app\.bsky\.feed\.post/(?P<rkey>[^/]+)"
)
_MAX_ID = 200  # the width of Post.platform_post_id; an id is never cut short


class _RecordFields(NamedTuple):
    text: str
    created_at: datetime
    lang: str
    in_reply_to: str
    thread_root: str


def parse_jetstream_event(event: object) -> IncomingPost | None:
    """Parse one decoded Jetstream event; None unless it creates an app.bsky.feed.post record.

    Jetstream carries no handle, so the author handle is the DID; the post id is the
    at:// URI of the record. The whole event (with `commit.cid`) is kept in `raw`.
    """
    if not isinstance(event, dict):
        raise PayloadError(f"expected a Jetstream event object, got {type(event).__name__}")
    kind = event.get("kind")
    if not isinstance(kind, str):
        raise PayloadError(f'"kind" must be a string such as "commit", got {_say(kind)}')
    if kind != "commit":
        return None
    commit = event.get("commit")
    if not isinstance(commit, dict):
        raise PayloadError(f'"commit" must be an object in a commit event, got {type(commit).__name__}')
    operation, collection = commit.get("operation"), commit.get("collection")
    if not isinstance(operation, str):
        raise PayloadError(f'"commit.operation" must be a string, got {_say(operation)}')
    if not isinstance(collection, str):
        raise PayloadError(f'"commit.collection" must be a string, got {_say(collection)}')
    if operation != "create" or collection != POST_COLLECTION:
        return None
    did = _did(event.get("did"), "did")
    rkey = commit.get("rkey")
    if not isinstance(rkey, str) or not _RKEY.fullmatch(rkey):
        raise PayloadError(f'"commit.rkey" must be a record key, got {_say(rkey)}')
    uri = _post_uri(did, rkey)
    cid = commit.get("cid")
    if cid is not None and not isinstance(cid, str):
        raise PayloadError(f'"commit.cid" must be a string, got {type(cid).__name__}')
    try:
        _check_json(event, "")
        fields = _record_fields(commit.get("record"), "commit.record")
    except PayloadError as exc:
        raise PayloadError(f"post {uri}: {exc}") from None
    return _post(uri, did, rkey, did, "", fields, event)


def parse_post_view(view: object) -> IncomingPost:
    """Parse an app.bsky.feed.defs#postView (getPostThread's `thread.post`, searchPosts' `posts[]`).

    The handle is `author.handle`, or the DID when the handle no longer verifies
    ("handle.invalid"); the post URL uses the DID, which survives handle changes.
    """
    if not isinstance(view, dict):
        raise PayloadError(f"expected a postView object, got {type(view).__name__}")
    uri = view.get("uri")
    match = _POST_URI.fullmatch(uri) if isinstance(uri, str) else None
    if match is None:
        raise PayloadError(f'"uri" must be an at://<did>/app.bsky.feed.post/<rkey> URI, got {_say(uri)}')
    did, rkey = match["did"], match["rkey"]
    if not _RKEY.fullmatch(rkey):
        raise PayloadError(f'"uri" has a malformed record key: {_say(rkey)}')
    uri = _post_uri(did, rkey)
    try:
        _check_json(view, "")
        author = view.get("author")
        if not isinstance(author, dict):
            raise PayloadError(f'"author" must be an object, got {type(author).__name__}')
        handle = author.get("handle")
        if not isinstance(handle, str) or not handle or len(handle) > _MAX_ID or any(c.isspace() for c in handle):
            raise PayloadError(f'"author.handle" must be a handle, got {_say(handle)}')
        if handle == "handle.invalid":
            handle = _did(author.get("did"), "author.did")
        display_name = _optional_str(author.get("displayName"), "author.displayName")[:200]
        fields = _record_fields(view.get("record"), "record")
    except PayloadError as exc:
        raise PayloadError(f"post {uri}: {exc}") from None
    return _post(uri, did, rkey, handle, display_name, fields, view)


def _post(
    uri: str, did: str, rkey: str, handle: str, display_name: str, fields: _RecordFields, raw: dict[str, Any]
) -> IncomingPost:
    return IncomingPost(
        platform=PLATFORM,
        platform_post_id=uri,
        text=fields.text,
        author_handle=handle,
        created_at=fields.created_at,
        author_display_name=display_name,
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        lang=fields.lang,
        in_reply_to=fields.in_reply_to,
        thread_id=fields.thread_root or fields.in_reply_to or uri,
        raw=raw,
    )


def _record_fields(record: object, where: str) -> _RecordFields:
    if not isinstance(record, dict):
        raise PayloadError(f'"{where}" must be an object, got {type(record).__name__}')
    text = record.get("text")
    if not isinstance(text, str):
        raise PayloadError(f'"{where}.text" must be a string, got {_say(text)}')
    if len(text) > MAX_TEXT_CHARS:
        raise PayloadError(f'"{where}.text" is {len(text)} characters, more than the {MAX_TEXT_CHARS} a post may have')
    created_at = parse_time(record.get("createdAt"), f"{where}.createdAt")
    langs = record.get("langs")
    lang = ""
    if langs is not None:
        if not isinstance(langs, list) or not all(isinstance(tag, str) for tag in langs):
            raise PayloadError(f'"{where}.langs" must be a list of language tags, got {_say(langs)}')
        lang = langs[0] if langs and len(langs[0]) <= 16 else ""
    in_reply_to = thread_root = ""
    reply = record.get("reply")
    if reply is not None:
        if not isinstance(reply, dict):
            raise PayloadError(f'"{where}.reply" must be an object, got {type(reply).__name__}')
        in_reply_to = _strong_ref_uri(reply.get("parent"), f"{where}.reply.parent")
        thread_root = _strong_ref_uri(reply.get("root"), f"{where}.reply.root")
    return _RecordFields(text, created_at, lang, in_reply_to, thread_root)


def _strong_ref_uri(ref: object, where: str) -> str:
    if not isinstance(ref, dict):
        raise PayloadError(f'"{where}" must be a strong reference {{uri, cid}}, got {type(ref).__name__}')
    uri = ref.get("uri")
    if not isinstance(uri, str) or not uri.startswith("at://") or len(uri) > _MAX_ID:
        raise PayloadError(f'"{where}.uri" must be an at:// URI of at most {_MAX_ID} characters, got {_say(uri)}')
    return uri


def _did(value: object, where: str) -> str:
    if not isinstance(value, str) or not _DID.fullmatch(value):
        raise PayloadError(f'"{where}" must be a DID such as did:plc:..., got {_say(value)}')
    return value


def _post_uri(did: str, rkey: str) -> str:
    uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
    if len(uri) > _MAX_ID:
        raise PayloadError(f"post URI is {len(uri)} characters, more than the {_MAX_ID} a post id may have")
    return uri
