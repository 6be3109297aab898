"""Reply on X: `POST /2/tweets` with `reply.in_reply_to_tweet_id`, as our account.

X has no idempotency key. After a crash between sending and recording, the outbox calls
`find_published` first: it reads our latest posts (`GET /2/users/:id/tweets`) for a reply
to the same post with the same text. X also refuses an exact duplicate of a recent post of
ours (403 "duplicate content"); `publish` then looks the first one up and returns it.

Posting needs a user-context OAuth 2.0 token (scopes tweet.read tweet.write users.read
offline.access). Such a token lives two hours: with a refresh token and the app's client id
the publisher renews it on 401 and keeps the new pair in `tokens`, which the caller stores.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from kizuna.sources.backoff import Clock
from kizuna.sources.backoff import utc_now as _utc_now
from kizuna.sources.base import AuthFailed, ConnectorError, Published, ReplyTarget
from kizuna.sources.x.connector import API, XApi, XDuplicate, XTokenRejected

_URL = re.compile(r"https?://\S+")
_RECENT = 100  # how many of our latest posts reconciliation reads (one request)


class XPublisher:
    """Publish replies as the account `user_id` (@`username`).

    `tokens` holds access_token, refresh_token and expires_at (ISO); give back what the
    last publisher left there, and store it again after each call.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        tokens: Mapping[str, str],
        user_id: str,
        username: str = "",
        client_id: str = "",
        client_secret: str = "",
        base_url: str = API,
        clock: Clock = _utc_now,
    ) -> None:
        if not tokens.get("access_token"):
            raise AuthFailed("X: no user access token; connect the account again")
        self.tokens = dict(tokens)
        self.api = XApi(http, self.tokens["access_token"], base_url=base_url, clock=clock)
        self.user_id, self.username = user_id, username
        self.client_id, self.client_secret = client_id, client_secret
        self.clock = clock

    def test_connection(self) -> str:
        user = self._call("GET", "/2/users/me").get("data") or {}
        return f"X account @{user.get('username', '?')} ({user.get('name', '')}), id {user.get('id', '?')}"

    def publish(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published:
        body = {"text": text, "reply": {"in_reply_to_tweet_id": target.platform_post_id}}
        try:
            doc = self._call("POST", "/2/tweets", body=body)
        except XDuplicate:
            found = self.find_published(text=text, target=target, idempotency_key=idempotency_key)
            if found is not None:
                return found
            raise
        data = doc.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ConnectorError(f"X accepted the reply but sent no post id: {str(doc)[:200]}", retryable=False)
        return Published(data["id"], self._url(data["id"]))

    def find_published(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published | None:
        params = {
            "max_results": str(_RECENT),
            "exclude": "retweets",
            "tweet.fields": "referenced_tweets,created_at,conversation_id",
        }
        doc = self._call("GET", f"/2/users/{self.user_id}/tweets", params=params)
        wanted = _comparable(text)
        for post in doc.get("data") or []:
            if not isinstance(post, dict):
                continue
            refs = post.get("referenced_tweets") or []
            replied = any(
                isinstance(r, dict) and r.get("type") == "replied_to" and r.get("id") == target.platform_post_id
                for r in refs
            )
            if replied and _comparable(str(post.get("text", ""))) == wanted:
                return Published(str(post["id"]), self._url(str(post["id"])))
        return None

    def _url(self, post_id: str) -> str:
        return (
            f"https://x.com/{self.username}/status/{post_id}" if self.username else f"https://x.com/i/status/{post_id}"
        )

    def _call(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: object = None
    ) -> dict[str, Any]:
        if self._can_refresh() and self._expires_soon():
            self._refresh()
        try:
            return self.api.request(method, path, params=params, body=body)
        except XTokenRejected:
            if not self._can_refresh():
                raise
        self._refresh()
        return self.api.request(method, path, params=params, body=body)

    def _can_refresh(self) -> bool:
        return bool(self.tokens.get("refresh_token") and self.client_id)

    def _expires_soon(self) -> bool:
        try:
            expires = datetime.fromisoformat(self.tokens.get("expires_at", ""))
        except ValueError:
            return False
        return expires - timedelta(seconds=60) <= self.clock()

    def _refresh(self) -> None:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.tokens["refresh_token"],
            "client_id": self.client_id,
        }
        # A confidential client authenticates with Basic auth; a public one sends only its id.
        headers = {}
        if self.client_secret:
            pair = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        try:
            response = self.api.http.post(f"{self.api.base_url}/2/oauth2/token", data=form, headers=headers)
        except httpx.TransportError as exc:
            raise ConnectorError(f"X: cannot reach the token endpoint: {exc}") from exc
        doc: Any = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200 or not isinstance(doc, dict) or not doc.get("access_token"):
            reason = doc.get("error_description") or doc.get("error") if isinstance(doc, dict) else None
            raise AuthFailed(f"X refused to renew the access token ({reason or response.status_code}); connect again")
        expires = self.clock() + timedelta(seconds=int(doc.get("expires_in") or 7200))
        self.tokens = {
            "access_token": doc["access_token"],
            "refresh_token": doc.get("refresh_token") or self.tokens["refresh_token"],
            "expires_at": expires.isoformat(),
        }
        self.api.token = self.tokens["access_token"]


def _comparable(text: str) -> str:
    # X returns links as t.co and text in NFC, with &, < and > escaped.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(_URL.sub("<url>", unicodedata.normalize("NFC", text)).split())
