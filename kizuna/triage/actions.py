"""Writes for crisis handling. Each checks permission and audits."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership, Workspace
from kizuna.accounts.permissions import Perm, role_has
from kizuna.inbox.audit import record_event
from kizuna.triage.models import CrisisAlert, CrisisStatus


def _check(membership: Membership, workspace_id: int) -> None:
    if membership.workspace_id != workspace_id or not role_has(membership.role, Perm.APPROVE_REPLY):
        raise PermissionDenied


@transaction.atomic
def do_set_crisis_mode(membership: Membership, *, on: bool) -> Workspace:
    """Switch the stricter reply policy on or off: in crisis mode every reply waits for
    approval and every posting-policy rule blocks."""
    _check(membership, membership.workspace_id)
    ws = Workspace.objects.select_for_update().get(pk=membership.workspace_id)
    if ws.crisis_mode != on:
        ws.crisis_mode = on
        ws.save(update_fields=["crisis_mode"])
        record_event(ws, "crisis.mode_on" if on else "crisis.mode_off", actor=membership.user)
    return ws


@transaction.atomic
def do_update_alert(membership: Membership, alert: CrisisAlert, *, status: str) -> CrisisAlert:
    """Acknowledge or resolve a crisis alert."""
    _check(membership, alert.workspace_id)
    if status not in (CrisisStatus.ACKNOWLEDGED, CrisisStatus.RESOLVED):
        raise ValidationError(_("Unknown alert status."))
    alert.status = status
    alert.acknowledged_by = membership.user
    alert.save(update_fields=["status", "acknowledged_by"])
    record_event(alert.workspace, f"crisis.{status}", actor=membership.user, alert_id=alert.pk)
    return alert
