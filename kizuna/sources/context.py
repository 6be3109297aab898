"""Fetch what an operator needs around a case from its platform: the thread, the author's posts.

On request (a button on the case page): X bills every read, and an operator knows when the
context is worth it. What comes back goes through the pipeline like any post, so it is
stored once and joins the case where it belongs.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership
from kizuna.accounts.permissions import Perm, role_has
from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.inbox.audit import record_event
from kizuna.inbox.models import Case
from kizuna.pipeline.ingest import ingest, quarantine
from kizuna.sources import registry
from kizuna.sources.base import ConnectorError
from kizuna.sources.models import Platform, Post, Source

CONTEXT_PLATFORMS = (Platform.X, Platform.BLUESKY, Platform.MASTODON)


def _fetch(source: Source, post: Post) -> list[IncomingPost | PayloadError]:
    credentials = source.get_credentials()
    if source.platform == Platform.X:
        from kizuna.sources.x.connector import XApi
        from kizuna.sources.x.context import fetch_conversation, fetch_user_posts

        if not credentials.get("bearer_token"):
            raise ConnectorError(_("Enter the X bearer token of this source first."), retryable=False)
        api = XApi(registry.http_client(), credentials["bearer_token"])
        items = fetch_conversation(api, post.thread_id or post.platform_post_id)
        author_id = (post.raw.get("data") or {}).get("author_id") if isinstance(post.raw.get("data"), dict) else None
        if author_id:
            items += fetch_user_posts(api, str(author_id))
        return items
    if source.platform == Platform.BLUESKY:
        from kizuna.sources.bluesky.connector import PDS, XrpcClient, fetch_author_feed, fetch_thread

        if not credentials.get("app_password"):
            raise ConnectorError(_("Enter the Bluesky app password of this source first."), retryable=False)
        client = XrpcClient(
            registry.http_client(),
            service=str(source.settings.get("service") or PDS),
            identifier=str(source.settings.get("identifier", "")),
            app_password=credentials["app_password"],
            state=credentials.get("session") or {},
        )
        try:
            thread = fetch_thread(client, post.platform_post_id)
            feed, _cursor = fetch_author_feed(client, post.author.handle)
        finally:
            source.set_credentials({**source.get_credentials(), "session": client.state})
            source.save(update_fields=["credentials_encrypted"])
        return [*thread, *feed]
    if source.platform == Platform.MASTODON:
        from kizuna.sources.mastodon.connector import MastodonApi

        mastodon = MastodonApi(
            registry.http_client(),
            base_url=str(source.settings.get("base_url", "")),
            access_token=str(credentials.get("access_token", "")),
        )
        return mastodon.context(post.platform_post_id)
    raise ConnectorError(_("This platform gives no context to fetch."), retryable=False)


def do_fetch_context(membership: Membership, case: Case) -> dict[str, int]:
    """Fetch and store the thread and the author's recent posts for a case; return counts."""
    if case.workspace_id != membership.workspace_id or not role_has(membership.role, Perm.TAKE_CASE):
        raise PermissionDenied
    post = (
        Post.objects.filter(case=case, is_ours=False).select_related("source", "author").order_by("created_at").first()
    )
    if post is None or post.source is None or post.source.platform not in CONTEXT_PLATFORMS:
        raise ValidationError(_("This case's posts come from a source without context to fetch."))
    try:
        items = _fetch(post.source, post)
    except ConnectorError as exc:
        raise ValidationError(str(exc)) from exc
    counts = {"new": 0, "duplicate": 0, "quarantined": 0}
    for item in items:
        if isinstance(item, PayloadError):
            quarantine(
                case.workspace, origin=f"context of case {case.pk}", reason=str(item), payload="", source=post.source
            )
            counts["quarantined"] += 1
            continue
        counts[ingest(case.workspace, item, source=post.source).outcome] += 1
    record_event(case.workspace, "case.context_fetched", case=case, actor=membership.user, **counts)
    return counts
