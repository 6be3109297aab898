"""Build a platform's collector and publisher from a stored Source.

The one place that knows which credentials and settings each platform takes. Secrets that
rotate while in use (X user tokens, Bluesky sessions) are written back, encrypted, by
`Connection.save_secrets` after every call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from kizuna.sources.base import Collector, ConnectorError, Publisher
from kizuna.sources.models import Platform, Source

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "Kizuna active support desk (+https://github.com/kizuna-desk)"

# What an admin enters per platform: (key, label, secret?). Secrets are encrypted and never shown.
FIELDS: dict[str, list[tuple[str, str, bool]]] = {
    Platform.X: [
        ("bearer_token", "App bearer token (reading)", True),
        ("access_token", "User access token (replying, OAuth 2.0)", True),
        ("refresh_token", "User refresh token", True),
        ("client_id", "OAuth client id", False),
        ("client_secret", "OAuth client secret", True),
        ("user_id", "Our account's user id", False),
        ("username", "Our account's @username", False),
        ("monthly_read_budget", "Monthly read budget (posts)", False),
        ("mode", "Collect by: search or stream", False),
    ],
    Platform.BLUESKY: [
        ("identifier", "Handle (e.g. support.example.com)", False),
        ("app_password", "App password", True),
        ("service", "PDS (default https://bsky.social)", False),
    ],
    Platform.MASTODON: [
        ("base_url", "Instance URL (https://…)", False),
        ("access_token", "Access token", True),
        ("stream", "Collect by: hashtag, public, public:local, user (mentions) or search", False),
        ("tag", "Hashtag (for the hashtag stream)", False),
    ],
    Platform.RSS: [("feeds", "Feed URLs, one per line", False)],
    Platform.WEBHOOK: [],
}
SETTINGS_KEYS = {key for fields in FIELDS.values() for key, _label, secret in fields if not secret} - {"client_id"}


def http_client() -> httpx.Client:
    """Return the HTTP client every connector uses (timeouts, user agent, no redirects to odd places)."""
    return httpx.Client(timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}, follow_redirects=True)


@dataclass
class Connection:
    source: Source
    collector: Collector | None = None
    publisher: Publisher | None = None
    # Called with the source after each use, to store rotated secrets.
    save_secrets: Callable[[Source], None] = field(default=lambda source: None)


def _x(source: Source, credentials: dict[str, Any], match: Callable[[Any], bool] | None) -> Connection:
    from kizuna.sources.x.connector import ReadBudget, XSearchCollector, XStreamCollector
    from kizuna.sources.x.publisher import XPublisher

    settings = source.settings
    budget_value = settings.get("monthly_read_budget")
    budget = ReadBudget(monthly_limit=int(budget_value)) if str(budget_value or "").isdigit() else ReadBudget()
    conn = Connection(source)
    http = http_client()
    if credentials.get("bearer_token"):
        if settings.get("mode") == "stream":
            conn.collector = XStreamCollector(http, bearer_token=credentials["bearer_token"], budget=budget)
        else:
            conn.collector = XSearchCollector(
                http,
                bearer_token=credentials["bearer_token"],
                queries=settings.get("queries", {}),
                user_id=str(settings.get("user_id", "")),
                budget=budget,
            )
    if credentials.get("access_token"):
        publisher = XPublisher(
            http,
            tokens={k: credentials[k] for k in ("access_token", "refresh_token", "expires_at") if credentials.get(k)},
            user_id=str(settings.get("user_id", "")),
            username=str(settings.get("username", "")),
            client_id=str(credentials.get("client_id", "")),
            client_secret=str(credentials.get("client_secret", "")),
        )
        conn.publisher = publisher

        def save(src: Source) -> None:
            merged = {**src.get_credentials(), **publisher.tokens}
            src.set_credentials(merged)
            src.save(update_fields=["credentials_encrypted"])

        conn.save_secrets = save
    return conn


def _bluesky(source: Source, credentials: dict[str, Any], match: Callable[[Any], bool] | None) -> Connection:
    from kizuna.sources.bluesky.connector import JETSTREAM, PDS, JetstreamCollector, XrpcClient
    from kizuna.sources.bluesky.publisher import BlueskyPublisher

    conn = Connection(source)
    if match is not None:
        conn.collector = JetstreamCollector(match=match, url=str(source.settings.get("jetstream_url") or JETSTREAM))
    if credentials.get("app_password"):
        client = XrpcClient(
            http_client(),
            service=str(source.settings.get("service") or PDS),
            identifier=str(source.settings.get("identifier") or credentials.get("identifier", "")),
            app_password=credentials["app_password"],
            state=credentials.get("session") or {},
        )
        conn.publisher = BlueskyPublisher(client)

        def save(src: Source) -> None:
            src.set_credentials({**src.get_credentials(), "session": client.state})
            # Jetstream names authors by DID: knowing ours keeps our own posts out of the inbox.
            did = client.state.get("did")
            if did and src.settings.get("did") != did:
                src.settings = {**src.settings, "did": did}
            src.save(update_fields=["credentials_encrypted", "settings"])

        conn.save_secrets = save
    return conn


def _mastodon(source: Source, credentials: dict[str, Any], match: Callable[[Any], bool] | None) -> Connection:
    from kizuna.sources.mastodon.connector import MastodonApi, MastodonSearchCollector, MastodonStreamCollector
    from kizuna.sources.mastodon.publisher import MastodonPublisher

    base_url = str(source.settings.get("base_url", ""))
    if not base_url.startswith("https://"):
        raise ConnectorError("Mastodon: set the instance URL (https://…)", retryable=False)
    api = MastodonApi(
        http_client(), base_url=base_url, access_token=str(credentials.get("access_token", "")), reserve=10
    )
    stream = str(source.settings.get("stream") or "hashtag")
    tag = str(source.settings.get("tag", "")) if stream == "hashtag" else ""
    collector: Collector | None
    if stream == "search":
        # Full-text search per rule (what the instance has indexed); our matcher re-checks.
        collector = MastodonSearchCollector(api, queries=source.settings.get("queries", {}))
    else:
        collector = MastodonStreamCollector(api, stream=stream, tag=tag) if (tag or stream != "hashtag") else None
    publisher = MastodonPublisher(api) if credentials.get("access_token") else None
    return Connection(source, collector=collector, publisher=publisher)


def _rss(source: Source, credentials: dict[str, Any], match: Callable[[Any], bool] | None) -> Connection:
    from kizuna.sources.rss.connector import RssCollector
    from kizuna.sources.rss.publisher import RssPublisher

    feeds = source.settings.get("feeds") or []
    if isinstance(feeds, str):
        feeds = [f.strip() for f in feeds.splitlines() if f.strip()]
    return Connection(source, collector=RssCollector(http_client(), feeds=list(feeds)), publisher=RssPublisher())


BUILDERS: dict[str, Callable[[Source, dict[str, Any], Callable[[Any], bool] | None], Connection]] = {
    Platform.X: _x,
    Platform.BLUESKY: _bluesky,
    Platform.MASTODON: _mastodon,
    Platform.RSS: _rss,
}


def connect(source: Source, *, match: Callable[[Any], bool] | None = None) -> Connection:
    """Return the collector and publisher a source's settings and credentials allow.

    `match` is the workspace matcher for firehose sources (Jetstream) that must filter early.
    """
    builder = BUILDERS.get(source.platform)
    if builder is None:
        return Connection(source)
    return builder(source, source.get_credentials(), match)
