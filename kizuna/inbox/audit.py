"""The one place audit events are written."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, User

from kizuna.accounts.models import Workspace
from kizuna.inbox.models import AuditEvent, Case


def record_event(
    workspace: Workspace,
    verb: str,
    *,
    case: Case | None = None,
    actor: User | AbstractBaseUser | None = None,
    **data: Any,
) -> AuditEvent:
    """Write one audit event; the live inbox streams these by id."""
    return AuditEvent.objects.create(
        workspace=workspace, case=case, actor_id=actor.pk if actor else None, verb=verb, data=data
    )
