"""Reply on Mastodon: `POST /api/v1/statuses` with `in_reply_to_id` and an Idempotency-Key.

Mastodon remembers the Idempotency-Key for an hour and answers a repeat with the status
it already made, so a retry soon after a crash cannot post twice. Past that hour,
`find_published` reads our latest statuses for a reply to the same status with the same
text. The text is sent as written: add the author's @mention in the draft if they should
be notified (Mastodon notifies only those mentioned).
"""

from __future__ import annotations

import re
import unicodedata

from kizuna.sources.base import ConnectorError, Published, ReplyTarget
from kizuna.sources.mastodon.connector import MastodonApi
from kizuna.sources.mastodon.parser import html_to_text

_URL = re.compile(r"https?://\S+")
VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})


class MastodonPublisher:
    """Publish replies through `api`'s account; `visibility` is the reply's visibility."""

    def __init__(self, api: MastodonApi, *, visibility: str = "public", account_id: str = "") -> None:
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {', '.join(sorted(VISIBILITIES))}, got {visibility!r}")
        self.api, self.visibility, self.account_id = api, visibility, account_id

    def test_connection(self) -> str:
        return self.api.test_connection()

    def publish(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published:
        body = {"status": text, "in_reply_to_id": target.platform_post_id, "visibility": self.visibility}
        doc = self.api.request("POST", "/api/v1/statuses", body=body, headers={"Idempotency-Key": idempotency_key})
        if not isinstance(doc, dict) or doc.get("id") is None:
            raise ConnectorError(
                f"Mastodon accepted the reply but sent no status id: {str(doc)[:200]}", retryable=False
            )
        return Published(str(doc["id"]), str(doc.get("url") or ""))

    def find_published(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published | None:
        if not self.account_id:
            self.account_id = str(self.api.verify_credentials().get("id", ""))
        params = {"limit": 40, "exclude_reblogs": "true"}
        statuses = self.api.get(f"/api/v1/accounts/{self.account_id}/statuses", params)
        wanted = _comparable(text)
        for status in statuses if isinstance(statuses, list) else []:
            if not isinstance(status, dict) or str(status.get("in_reply_to_id")) != target.platform_post_id:
                continue
            if _comparable(html_to_text(str(status.get("content") or ""))) == wanted:
                return Published(str(status["id"]), str(status.get("url") or ""))
        return None


def _comparable(text: str) -> str:
    # Mastodon renders links and mentions as HTML and may shorten how a link shows.
    return " ".join(_URL.sub("<url>", unicodedata.normalize("NFC", text)).split())
