"""Webhook signatures (HMAC-SHA256 over timestamp and body) and the body's posts."""

from __future__ import annotations

import json

import pytest

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.sources.webhook.verify import SignatureError, parse_webhook_body, sign, verify_signature

SECRET = "whsec_hidamari"
NOW = 1_783_175_888
POST = {
    "id": "form-1001",
    "text": "サクッとポテトが湿気ってました",
    "author": "@misaki",
    "created_at": "2026-07-04T14:38:07Z",
    "lang": "ja",
}


def _check(body: bytes, signature: str | None, timestamp: str | None, now: float = NOW) -> None:
    verify_signature(secret=SECRET, body=body, signature=signature, timestamp=timestamp, now=now)


def test_it_accepts_a_good_signature() -> None:
    body = json.dumps(POST, ensure_ascii=False).encode()
    _check(body, sign(SECRET, NOW, body), str(NOW))
    _check(body, sign(SECRET, NOW, body).upper().replace("SHA256=", "sha256="), str(NOW))  # hex in capitals


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing X-Kizuna-Signature"),
        ("md5=abc", 'must read "sha256=<hex digest>"'),
        ("sha256=" + "0" * 64, "does not match"),
        ("sha256=ひらがな", "does not match"),
    ],
)
def test_it_refuses_a_bad_signature(signature: str | None, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        _check(b"{}", signature, str(NOW))


def test_it_refuses_a_body_changed_after_signing() -> None:
    body = json.dumps(POST).encode()
    with pytest.raises(SignatureError, match="does not match"):
        _check(body.replace(b"1001", b"1002"), sign(SECRET, NOW, body), str(NOW))


def test_it_refuses_a_replayed_request() -> None:
    body = json.dumps(POST).encode()
    signature = sign(SECRET, NOW, body)
    _check(body, signature, str(NOW), now=NOW + 299)
    with pytest.raises(SignatureError, match="seconds from our clock"):
        _check(body, signature, str(NOW), now=NOW + 301)
    # A fresh timestamp on the old signature does not help: the timestamp is signed too.
    with pytest.raises(SignatureError, match="does not match"):
        _check(body, signature, str(NOW + 600), now=NOW + 601)


def test_it_refuses_a_missing_timestamp_or_secret() -> None:
    with pytest.raises(SignatureError, match="X-Kizuna-Timestamp"):
        _check(b"{}", sign(SECRET, NOW, b"{}"), "yesterday")
    with pytest.raises(SignatureError, match="no webhook secret"):
        verify_signature(secret="", body=b"{}", signature="sha256=00", timestamp=str(NOW), now=NOW)


def test_it_reads_one_post_or_an_array_of_posts() -> None:
    items, bad = parse_webhook_body(json.dumps(POST).encode())
    assert bad == [] and isinstance(items[0], IncomingPost)
    assert (items[0].platform, items[0].author_handle, items[0].platform_post_id) == ("webhook", "misaki", "form-1001")
    many = [POST, {**POST, "id": "form-1002", "platform": "x"}]
    items, bad = parse_webhook_body(json.dumps(many).encode())
    assert [i.platform for i in items if isinstance(i, IncomingPost)] == ["webhook", "x"]


def test_it_quarantines_a_bad_post_and_keeps_the_rest() -> None:
    broken = {"id": "form-9", "author": "a", "created_at": "2026-07-04T14:38:07Z"}
    items, bad = parse_webhook_body(json.dumps([POST, broken]).encode())
    assert [type(i) for i in items] == [IncomingPost, PayloadError]
    assert str(items[1]) == 'post 2: missing required field "text"'
    assert json.loads(bad[0]) == broken


def test_it_quarantines_a_body_that_is_not_json() -> None:
    items, bad = parse_webhook_body(b'{"id": 1,')
    assert len(items) == 1 and str(items[0]).startswith("body is not JSON") and bad == ['{"id": 1,']
