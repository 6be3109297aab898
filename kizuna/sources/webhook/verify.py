"""Verify and read posts pushed to Kizuna's webhook by another system (a listening tool, a form).

The sender signs each request with the source's shared secret:

    X-Kizuna-Timestamp: 1783175888                      (Unix seconds)
    X-Kizuna-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body>

The timestamp is inside what is signed: signing the body alone would let anyone who saw
one request replay it forever with a fresh timestamp header. A request older (or newer)
than five minutes is refused, and within those minutes a replay can only redeliver posts
the pipeline already stores once (ingest is idempotent on the post id).

The body is one post or a JSON array of posts, each in the JSONL import shape
(`kizuna.core.posts.parse_jsonl_post`; platform defaults to "webhook").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from kizuna.core.posts import IncomingPost, PayloadError, parse_jsonl_post

SIGNATURE_HEADER = "X-Kizuna-Signature"
TIMESTAMP_HEADER = "X-Kizuna-Timestamp"
TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 5_000_000
MAX_POSTS = 1_000


class SignatureError(ValueError):
    """The request is not from the holder of the secret, or is too old; str(exc) says which."""


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """Return the X-Kizuna-Signature value for a body sent at `timestamp` (for senders and tests)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    digest = hmac.new(key, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    *,
    secret: str | bytes,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Check a request's signature and age; raise SignatureError with the reason if it fails.

    Preconditions: `body` is the raw request body, before any decoding.
    """
    if not secret:
        raise SignatureError("the source has no webhook secret; set one before accepting posts")
    if not signature:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if not timestamp or not timestamp.strip().isdigit():
        raise SignatureError(f"missing or malformed {TIMESTAMP_HEADER} header (expected Unix seconds)")
    sent = int(timestamp.strip())
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is {int(current - sent)} seconds from our clock; at most {tolerance} are accepted"
        )
    scheme, _, given = signature.strip().partition("=")
    if scheme != "sha256" or not given:
        raise SignatureError(f'{SIGNATURE_HEADER} must read "sha256=<hex digest>"')
    expected = sign(secret, timestamp.strip(), body).partition("=")[2]
    if not hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("ascii", "replace")):
        raise SignatureError("the signature does not match the body (wrong secret, or the body was changed)")


def parse_webhook_body(body: bytes) -> tuple[list[IncomingPost | PayloadError], list[str]]:
    """Parse a verified body into posts (or the reasons they are not), and each bad one's raw text.

    One bad post does not spoil the others: each becomes a PayloadError beside the good ones.
    """
    if len(body) > MAX_BODY_BYTES:
        return [PayloadError(f"body is {len(body)} bytes, more than the {MAX_BODY_BYTES} accepted")], [_clip(body)]
    try:
        doc = json.loads(body)
    except UnicodeDecodeError as exc:
        return [PayloadError(f"body is not UTF-8 (byte {exc.start})")], [_clip(body)]
    except json.JSONDecodeError as exc:
        reason = f"body is not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        return [PayloadError(reason)], [_clip(body)]
    except (ValueError, RecursionError) as exc:
        return [PayloadError(f"body is not JSON we can read: {type(exc).__name__}")], [_clip(body)]
    entries = doc if isinstance(doc, list) else [doc]
    if len(entries) > MAX_POSTS:
        return [PayloadError(f"body holds {len(entries)} posts, more than the {MAX_POSTS} accepted at once")], [
            _clip(body)
        ]
    items: list[IncomingPost | PayloadError] = []
    bad: list[str] = []
    for index, entry in enumerate(entries):
        try:
            items.append(parse_jsonl_post(entry, default_platform="webhook"))
        except PayloadError as exc:
            where = f"post {index + 1}: " if isinstance(doc, list) else ""
            items.append(PayloadError(f"{where}{exc}"))
            bad.append(json.dumps(entry, ensure_ascii=False))
    return items, bad


def _clip(body: bytes) -> str:
    return body[:100_000].decode("utf-8", "replace")
