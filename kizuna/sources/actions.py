"""Writes for sources: create, configure, store credentials (encrypted, never shown again)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership
from kizuna.accounts.permissions import Perm, role_has
from kizuna.inbox.audit import record_event
from kizuna.sources.base import ConnectorError
from kizuna.sources.models import Platform, Source
from kizuna.sources.registry import FIELDS, connect

CONFIGURABLE = (Platform.X, Platform.BLUESKY, Platform.MASTODON, Platform.RSS, Platform.WEBHOOK)


def _check(membership: Membership, workspace_id: int) -> None:
    if membership.workspace_id != workspace_id or not role_has(membership.role, Perm.MANAGE_CONFIG):
        raise PermissionDenied


@transaction.atomic
def do_create_source(membership: Membership, *, platform: str, name: str, handle: str = "") -> tuple[Source, str]:
    """Create a source; for a webhook, also return its secret, shown this once."""
    _check(membership, membership.workspace_id)
    if platform not in CONFIGURABLE:
        raise ValidationError(_("Choose a platform."))
    if not name.strip():
        raise ValidationError(_("Give the source a name."))
    source = Source(
        workspace=membership.workspace,
        platform=platform,
        name=name.strip()[:200],
        handle=handle.strip().lstrip("@"),
        enabled=False,
    )
    secret = ""
    if platform == Platform.WEBHOOK:
        secret = secrets.token_urlsafe(32)
        source.set_credentials({"secret": secret})
        source.enabled = True
    source.save()
    record_event(membership.workspace, "source.created", actor=membership.user, source=source.pk, platform=platform)
    return source, secret


@transaction.atomic
def do_configure_source(membership: Membership, source: Source, *, values: dict[str, str], enabled: bool) -> Source:
    """Store a source's settings and any newly entered secrets; a blank secret keeps the stored one."""
    _check(membership, source.workspace_id)
    source = Source.objects.select_for_update().get(pk=source.pk)
    settings: dict[str, Any] = dict(source.settings)
    credentials = source.get_credentials()
    changed_secrets = []
    for key, _label, secret in FIELDS.get(source.platform, []):
        value = values.get(key, "").strip()
        if secret:
            if value:
                credentials[key] = value
                changed_secrets.append(key)
                credentials.pop("session", None)  # a new password invalidates the old session
        elif key == "feeds":
            settings[key] = [line.strip() for line in value.splitlines() if line.strip()]
            for feed in settings[key]:
                if not feed.startswith(("https://", "http://")):
                    raise ValidationError(_("Each feed must be an http(s) address: %(feed)s") % {"feed": feed[:100]})
        else:
            settings[key] = value
    if source.platform == Platform.X and settings.get("mode") not in ("", "search", "stream"):
        raise ValidationError(_("Collect by must be search or stream."))
    if (
        source.platform == Platform.X
        and settings.get("monthly_read_budget")
        and not str(settings["monthly_read_budget"]).isdigit()
    ):
        raise ValidationError(_("The monthly read budget is a number of posts."))
    source.settings = settings
    source.set_credentials(credentials)
    source.enabled = enabled
    source.save()
    record_event(
        source.workspace,
        "source.configured",
        actor=membership.user,
        source=source.pk,
        enabled=enabled,
        settings=sorted(settings),
        secrets_changed=changed_secrets,
    )
    return source


def do_test_connection(membership: Membership, source: Source) -> str:
    """Ask the platform whether the stored credentials work; return what it said."""
    _check(membership, source.workspace_id)
    try:
        connection = connect(source, match=lambda post: False)
        probe = connection.collector or connection.publisher
        if probe is None:
            raise ConnectorError(_("Nothing to test: enter the credentials first."), retryable=False)
        message = str(probe.test_connection())
    except ConnectorError as exc:
        record_event(source.workspace, "source.test_failed", actor=membership.user, source=source.pk, error=str(exc))
        raise ValidationError(str(exc)) from exc
    record_event(source.workspace, "source.test_ok", actor=membership.user, source=source.pk)
    return message


@transaction.atomic
def do_rotate_webhook_secret(membership: Membership, source: Source) -> str:
    """Replace a webhook's secret; return the new one, shown this once."""
    _check(membership, source.workspace_id)
    if source.platform != Platform.WEBHOOK:
        raise ValidationError(_("Only a webhook has a secret to rotate."))
    secret = secrets.token_urlsafe(32)
    source.set_credentials({"secret": secret})
    source.save(update_fields=["credentials_encrypted"])
    record_event(source.workspace, "source.secret_rotated", actor=membership.user, source=source.pk)
    return secret
