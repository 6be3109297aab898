"""Reply on Bluesky: com.atproto.repo.createRecord with reply refs and rich-text facets.

Idempotency: the record key (rkey) is a TID derived from the idempotency key, so a retry
writes to the same record path. A second createRecord at that path fails, and a record
already there means the first attempt went through: `publish` then returns it, and
`find_published` is a single getRecord. No retry can create a second post.

The write budget (5,000 points an hour, 35,000 a day, a create costs 3) is tracked in
the client's state, and a reply that would overspend it is refused with RateLimited
before the PDS has to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from kizuna.core.length import bluesky_facets
from kizuna.sources.backoff import Clock
from kizuna.sources.backoff import utc_now as _utc_now
from kizuna.sources.base import ConnectorError, Published, RateLimited, ReplyTarget
from kizuna.sources.bluesky.connector import XrpcClient, XrpcError
from kizuna.sources.bluesky.parser import POST_COLLECTION

CREATE_POINTS = 3
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# Derived TIDs take their timestamp from a fixed past year: deterministic, valid, and never
# colliding with the keys of posts made now (2^45 µs × 1,024 clock ids to spread over).
_TID_BASE_US = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
_TID_SPAN_US = 2**45


def rkey_for(idempotency_key: str) -> str:
    """Return the record key (a TID: 13 base32-sortable characters) a reply with this key is written at."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).digest()
    micros = _TID_BASE_US + int.from_bytes(digest[:8], "big") % _TID_SPAN_US
    value = (micros << 10) | (int.from_bytes(digest[8:10], "big") % 1024)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


class BlueskyPublisher:
    """Publish replies as the client's account; `client.state` is what to store afterwards."""

    def __init__(
        self,
        client: XrpcClient,
        *,
        langs: Sequence[str] = ("ja",),
        hourly_points: int = 5_000,
        daily_points: int = 35_000,
        clock: Clock = _utc_now,
    ) -> None:
        self.client, self.langs = client, list(langs)
        self.limits = ((timedelta(hours=1), hourly_points), (timedelta(days=1), daily_points))
        self.clock = clock
        self._dids: dict[str, str | None] = {}

    def test_connection(self) -> str:
        return self.client.test_connection()

    def publish(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published:
        did, rkey = self.client.did, rkey_for(idempotency_key)
        self._check_budget()
        root, parent = self._reply_refs(target)
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": self.clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "reply": {"root": root, "parent": parent},
        }
        if self.langs:
            record["langs"] = self.langs
        facets = bluesky_facets(text, self._resolve_handle)
        if facets:
            record["facets"] = facets
        body = {"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
        try:
            doc = self.client.procedure("com.atproto.repo.createRecord", body)
        except XrpcError as exc:
            if exc.status >= 500 or exc.status in {400, 409}:
                # Possibly "already exists" from an earlier attempt (or a timeout that
                # succeeded): the record at our key answers which.
                found = self.find_published(text=text, target=target, idempotency_key=idempotency_key)
                if found is not None:
                    return found
            raise
        self._spend(CREATE_POINTS)
        uri = doc.get("uri")
        if not isinstance(uri, str):
            raise ConnectorError(f"Bluesky accepted the reply but sent no uri: {str(doc)[:200]}", retryable=False)
        return Published(uri, _web_url(did, uri.rsplit("/", 1)[-1]))

    def find_published(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published | None:
        did, rkey = self.client.did, rkey_for(idempotency_key)
        params = {"repo": did, "collection": POST_COLLECTION, "rkey": rkey}
        try:
            doc = self.client.query("com.atproto.repo.getRecord", params)
        except XrpcError as exc:
            if exc.error == "RecordNotFound" or exc.status in {400, 404}:
                return None
            raise
        uri = doc.get("uri") if isinstance(doc.get("uri"), str) else f"at://{did}/{POST_COLLECTION}/{rkey}"
        return Published(str(uri), _web_url(did, rkey))

    def _reply_refs(self, target: ReplyTarget) -> tuple[dict[str, str], dict[str, str]]:
        uri = target.platform_post_id
        cid, root = _refs_in(target.raw)
        if not cid:
            posts = self.client.query("app.bsky.feed.getPosts", {"uris": [uri]}).get("posts") or []
            if not posts or not isinstance(posts[0], dict) or not isinstance(posts[0].get("cid"), str):
                raise ConnectorError(
                    f"Bluesky: the post {uri} no longer exists; it cannot be answered", retryable=False
                )
            cid, root = _refs_in(posts[0])
        parent = {"uri": uri, "cid": cid}
        return root or parent, parent

    def _resolve_handle(self, handle: str) -> str | None:
        if handle not in self._dids:
            try:
                doc = self.client.query("com.atproto.identity.resolveHandle", {"handle": handle})
                did = doc.get("did")
                self._dids[handle] = did if isinstance(did, str) else None
            except XrpcError:
                self._dids[handle] = None  # not an account: the text stays, without a mention facet
        return self._dids[handle]

    def _writes(self) -> list[tuple[datetime, int]]:
        horizon = self.clock() - timedelta(days=1)
        writes = []
        for entry in self.client.state.get("writes") or []:
            try:
                when, points = datetime.fromisoformat(entry[0]), int(entry[1])
            except (TypeError, ValueError, IndexError):
                continue
            if when > horizon:
                writes.append((when, points))
        return sorted(writes)

    def _check_budget(self) -> None:
        now, writes = self.clock(), self._writes()
        for window, limit in self.limits:
            recent = [(when, points) for when, points in writes if when > now - window]
            spent = sum(points for _, points in recent)
            if spent + CREATE_POINTS > limit:
                freed, reset = 0, now + window
                for when, points in recent:  # the moment enough old writes leave the window
                    freed += points
                    if spent - freed + CREATE_POINTS <= limit:
                        reset = when + window
                        break
                raise RateLimited(
                    f"Bluesky write budget: {spent} of {limit} points used in the last {window}", reset_at=reset
                )

    def _spend(self, points: int) -> None:
        writes = self._writes() + [(self.clock(), points)]
        self.client.state["writes"] = [[when.isoformat(), p] for when, p in writes]


def _refs_in(raw: Mapping[str, Any]) -> tuple[str, dict[str, str] | None]:
    """Take the post's cid and its thread root from a Jetstream event or a postView."""
    commit = raw.get("commit")
    source = commit if isinstance(commit, dict) else raw
    cid = source.get("cid")
    record = source.get("record")
    reply = record.get("reply") if isinstance(record, dict) else None
    root = reply.get("root") if isinstance(reply, dict) else None
    if isinstance(root, dict) and isinstance(root.get("uri"), str) and isinstance(root.get("cid"), str):
        return (cid if isinstance(cid, str) else ""), {"uri": root["uri"], "cid": root["cid"]}
    return (cid if isinstance(cid, str) else ""), None


def _web_url(did: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{did}/post/{rkey}"
