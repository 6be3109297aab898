"""Turn X API v2 payloads (search, timelines, lookups, filtered stream) into IncomingPost.

Pure functions over decoded JSON: no Django, no network. Every problem with a payload comes
back as a PayloadError whose text names the post and the field; nothing else is raised.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from kizuna.core.posts import MAX_TEXT_CHARS, IncomingPost, PayloadError, parse_time
from kizuna.sources.payload import check_json as _check_json
from kizuna.sources.payload import optional_str as _optional_str
from kizuna.sources.payload import say as _say

PLATFORM = "x"
_ID = re.compile(r"[0-9]{1,19}")
# X usernames are [A-Za-z0-9_]{1,15}; we allow longer ones but nothing that could bend the URL.
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,50}")
_TWITTER_EPOCH = datetime(2010, 11, 4, 1, 42, 54, 657000, tzinfo=UTC)
_INCLUDE_KEYS = {"users": "id", "tweets": "id", "media": "media_key", "polls": "id", "places": "id"}


def parse_x_response(doc: object) -> list[IncomingPost | PayloadError]:
    """Parse one X API v2 response body (search, timeline or lookup) into posts and errors.

    `data` may be one post or a list; authors come from `includes.users` (request
    expansions=author_id). Each entry of `errors` becomes a PayloadError, with or without data.
    An empty page (only `meta`) gives an empty list.
    """
    if not isinstance(doc, dict):
        return [PayloadError(f"expected an X API response object, got {type(doc).__name__}")]
    results: list[IncomingPost | PayloadError] = []
    errors = doc.get("errors")
    if errors is not None:
        context = _problem_text(doc) if "title" in doc or "detail" in doc else ""
        results.extend(_api_errors(errors, context))
    data = doc.get("data")
    if data is None:
        if errors is None:
            if "title" in doc or "detail" in doc:
                results.append(PayloadError(f"X API problem: {_problem_text(doc)}"))
            elif not isinstance(doc.get("meta"), dict):
                results.append(PayloadError('X response has neither "data" nor "errors" nor "meta"'))
        return results
    try:
        users = _users_by_id(doc.get("includes"))
    except PayloadError as exc:
        return [*results, exc]
    if isinstance(data, dict):
        entries: list[tuple[str, object]] = [("data", data)]
    elif isinstance(data, list):
        entries = [(f"data[{i}]", item) for i, item in enumerate(data)]
    else:
        return [*results, PayloadError(f'"data" must be a post object or a list of posts, got {type(data).__name__}')]
    for where, tweet in entries:
        try:
            results.append(_parse_tweet(tweet, users, where, _raw_for(tweet, doc.get("includes"))))
        except PayloadError as exc:
            results.append(exc)
    return results


def parse_x_stream_line(line: bytes | str) -> IncomingPost | None:
    """Parse one line of the filtered stream; None for a keep-alive (blank) line.

    A line is one JSON object with `data`, `includes` and `matching_rules`; the whole object
    is kept in `raw`. A line carrying only `errors` (e.g. an operational disconnect) raises
    PayloadError naming them.
    """
    if not isinstance(line, bytes | str):
        raise PayloadError(f"expected a stream line as bytes, got {type(line).__name__}")
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except UnicodeDecodeError as exc:
        raise PayloadError(f"stream line is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"stream line is not JSON (column {exc.colno}: {exc.msg})") from None
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"stream line is not JSON we can read: {type(exc).__name__}") from None
    if not isinstance(obj, dict):
        raise PayloadError(f"stream line must be a JSON object, got {type(obj).__name__}")
    data = obj.get("data")
    if data is None:
        if obj.get("errors") is not None:
            raise PayloadError("; ".join(str(e) for e in _api_errors(obj["errors"])))
        raise PayloadError('stream line has no "data"')
    return _parse_tweet(data, _users_by_id(obj.get("includes")), "data", obj)


def _parse_tweet(
    tweet: object, users: dict[str, tuple[str, dict[str, Any]]], where: str, raw: dict[str, Any]
) -> IncomingPost:
    if not isinstance(tweet, dict):
        raise PayloadError(f'"{where}" must be a post object, got {type(tweet).__name__}')
    if "text" not in tweet:
        raise PayloadError(f'"{where}" has no "text", so it is not a post (a user, count or rule object?)')
    post_id = _id(tweet.get("id"), f"{where}.id")
    try:
        _check_raw(raw, where)
        return _build_post(tweet, post_id, users, where, raw)
    except PayloadError as exc:
        raise PayloadError(f"post {post_id}: {exc}") from None


def _build_post(
    tweet: dict[str, Any], post_id: str, users: dict[str, tuple[str, dict[str, Any]]], where: str, raw: dict[str, Any]
) -> IncomingPost:
    text = _text(tweet["text"], f"{where}.text")
    note = tweet.get("note_tweet")
    if note is not None:
        if not isinstance(note, dict):
            raise PayloadError(f'"{where}.note_tweet" must be an object, got {type(note).__name__}')
        if note.get("text") is not None:
            text = _text(note["text"], f"{where}.note_tweet.text")
    author_id = tweet.get("author_id")
    if author_id is None:
        raise PayloadError(f'"{where}.author_id" is missing: request tweet.fields=author_id and expansions=author_id')
    author_id = _id(author_id, f"{where}.author_id")
    if author_id not in users:
        raise PayloadError(
            f'author {author_id} is not in "includes.users": request expansions=author_id '
            "with user.fields=username,name,public_metrics"
        )
    user_where, user = users[author_id]
    username = user.get("username")
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise PayloadError(f'"{user_where}.username" must be an X username, got {_say(username)}')
    in_reply_to, is_repost = _references(tweet.get("referenced_tweets"), f"{where}.referenced_tweets")
    conversation = tweet.get("conversation_id")
    thread_id = _id(conversation, f"{where}.conversation_id") if conversation is not None else ""
    return IncomingPost(
        platform=PLATFORM,
        platform_post_id=post_id,
        text=text,
        author_handle=username,
        created_at=_created_at(tweet.get("created_at"), post_id, f"{where}.created_at"),
        author_display_name=_optional_str(user.get("name"), f"{user_where}.name")[:200],
        author_followers=_followers(user.get("public_metrics"), f"{user_where}.public_metrics"),
        url=f"https://x.com/{username}/status/{post_id}",
        lang=_lang(tweet.get("lang"), f"{where}.lang"),
        in_reply_to=in_reply_to,
        thread_id=thread_id or in_reply_to or post_id,
        is_repost=is_repost,
        raw=raw,
    )


def _references(refs: object, where: str) -> tuple[str, bool]:
    if refs is None:
        return "", False
    if not isinstance(refs, list):
        raise PayloadError(f'"{where}" must be a list, got {type(refs).__name__}')
    in_reply_to, is_repost = "", False
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict):
            raise PayloadError(f'"{where}[{i}]" must be an object, got {type(ref).__name__}')
        kind = ref.get("type")
        if kind == "replied_to":
            in_reply_to = _id(ref.get("id"), f"{where}[{i}].id")
        elif kind == "retweeted":
            is_repost = True
        elif not isinstance(kind, str):
            raise PayloadError(f'"{where}[{i}].type" must be a string, got {_say(kind)}')
    return in_reply_to, is_repost


def _created_at(value: object, post_id: str, where: str) -> datetime:
    if value is not None:
        return parse_time(value, where)
    # Without tweet.fields=created_at the time is still exact: post ids are snowflakes whose
    # top bits count milliseconds since the X epoch. Ids before late 2010 are not snowflakes.
    millis = int(post_id) >> 22
    if millis < 86_400_000:
        raise PayloadError(f'"{where}" is missing and post id {post_id} predates time-ordered ids')
    return _TWITTER_EPOCH + timedelta(milliseconds=millis)


def _users_by_id(includes: object) -> dict[str, tuple[str, dict[str, Any]]]:
    if includes is None:
        return {}
    if not isinstance(includes, dict):
        raise PayloadError(f'"includes" must be an object, got {type(includes).__name__}')
    users = includes.get("users")
    if users is None:
        return {}
    if not isinstance(users, list):
        raise PayloadError(f'"includes.users" must be a list, got {type(users).__name__}')
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for i, user in enumerate(users):
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            found.setdefault(user["id"], (f"includes.users[{i}]", user))
    return found


def _raw_for(tweet: object, includes: object) -> dict[str, Any]:
    """Keep the post with only the expansions it refers to, as a one-post response.

    A page of 100 posts would otherwise store every author 100 times. Re-parsing the raw
    gives the same post back.
    """
    if not isinstance(tweet, dict) or not isinstance(includes, dict):
        return {"data": tweet}
    refs, attachments, geo = tweet.get("referenced_tweets"), tweet.get("attachments"), tweet.get("geo")
    attachments = attachments if isinstance(attachments, dict) else {}
    wanted = {
        "users": _strs([tweet.get("author_id")]),
        "tweets": _strs([ref.get("id") for ref in refs if isinstance(ref, dict)] if isinstance(refs, list) else []),
        "media": _strs(attachments.get("media_keys")),
        "polls": _strs(attachments.get("poll_ids")),
        "places": _strs([geo.get("place_id")] if isinstance(geo, dict) else []),
    }
    kept: dict[str, Any] = {}
    for kind, key in _INCLUDE_KEYS.items():
        items = includes.get(kind)
        if isinstance(items, list):
            chosen = [
                it for it in items if isinstance(it, dict) and isinstance(it.get(key), str) and it[key] in wanted[kind]
            ]
            if chosen:
                kept[kind] = chosen
    return {"data": tweet, "includes": kept} if kept else {"data": tweet}


def _check_raw(raw: dict[str, Any], where: str) -> None:
    """Check what will be stored, naming expansions by their id rather than a shifted index."""
    for key, value in raw.items():
        if key == "data":
            _check_json(value, where)
        elif key == "includes" and isinstance(value, dict):
            for kind, items in value.items():
                if not isinstance(items, list):
                    _check_json(items, f"includes.{kind}")
                    continue
                id_key = _INCLUDE_KEYS.get(kind, "id")
                for item in items:
                    ident = item.get(id_key) if isinstance(item, dict) else None
                    _check_json(item, f"includes.{kind}[{id_key}={_clip(ident, 40)}]")
        else:
            _check_json(value, key)


def _strs(values: object) -> set[object]:
    return {v for v in values if isinstance(v, str)} if isinstance(values, list) else set()


def _api_errors(errors: object, context: str = "") -> list[PayloadError]:
    if not isinstance(errors, list):
        return [PayloadError(f'"errors" must be a list, got {type(errors).__name__}')]
    found: list[PayloadError] = []
    for i, error in enumerate(errors):
        if not isinstance(error, dict):
            found.append(PayloadError(f"X API error errors[{i}]: {_say(error)}"))
            continue
        text = _problem_text(error)
        resource = " ".join(_clip(error.get(k)) for k in ("resource_type", "resource_id") if error.get(k) is not None)
        parameter = f"parameter {_clip(error['parameter'])}" if error.get("parameter") is not None else ""
        details = "; ".join(part for part in (resource, parameter, context) if part)
        found.append(PayloadError(f"X API error: {text}" + (f" ({details})" if details else "")))
    return found


def _problem_text(obj: dict[str, Any]) -> str:
    parts = [_clip(obj.get(k)) for k in ("title", "message", "detail") if obj.get(k) is not None]
    return ": ".join(dict.fromkeys(parts)) or _say(obj)


def _id(value: object, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise PayloadError(f'"{where}" must be a numeric id string, got {_say(value)}')
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(f'"{where}" must be a string, got {type(value).__name__}')
    if len(value) > MAX_TEXT_CHARS:
        raise PayloadError(f'"{where}" is {len(value)} characters, more than the {MAX_TEXT_CHARS} a post may have')
    # X API v2 escapes exactly these three in post text; anything else is what the person typed.
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _lang(value: object, where: str) -> str:
    lang = _optional_str(value, where)
    # "und" is X's word for "could not tell", which Kizuna spells as no language.
    return "" if lang == "und" or len(lang) > 16 else lang


def _followers(metrics: object, where: str) -> int:
    if metrics is None:
        return 0
    if not isinstance(metrics, dict):
        raise PayloadError(f'"{where}" must be an object, got {type(metrics).__name__}')
    count = metrics.get("followers_count", 0)
    if isinstance(count, bool) or not isinstance(count, int):
        raise PayloadError(f'"{where}.followers_count" must be an integer, got {_say(count)}')
    return max(count, 0)


def _clip(value: object, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")[:limit]
