"""The only writers of cases. Each checks permission and workspace, and writes an audit event."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership
from kizuna.accounts.permissions import Perm, role_has
from kizuna.inbox.audit import record_event
from kizuna.inbox.models import Case, CaseStatus, CloseReason


def _check(membership: Membership, case: Case, perm: Perm) -> None:
    if case.workspace_id != membership.workspace_id or not role_has(membership.role, perm):
        raise PermissionDenied


@transaction.atomic
def do_take_case(membership: Membership, case: Case) -> Case:
    """Assign the case to the acting member and mark it in progress."""
    _check(membership, case, Perm.TAKE_CASE)
    case = Case.objects.select_for_update().get(pk=case.pk)
    previous = case.assignee_id
    case.assignee = membership.user
    if case.status in (CaseStatus.NEW, CaseStatus.CLOSED):
        case.status = CaseStatus.OPEN
        case.close_reason = ""
    case.save(update_fields=["assignee", "status", "close_reason", "updated_at"])
    record_event(
        case.workspace, "case.taken", case=case, actor=membership.user, previous_assignee=previous, status=case.status
    )
    return case


@transaction.atomic
def do_close_case(membership: Membership, case: Case, *, reason: str, note: str = "") -> Case:
    """Close the case as needing no (further) reply, with a reason."""
    _check(membership, case, Perm.CLOSE_CASE)
    if reason not in CloseReason.values:
        raise ValidationError(_("Choose a reason for closing."))
    case = Case.objects.select_for_update().get(pk=case.pk)
    case.status = CaseStatus.CLOSED
    case.close_reason = reason
    case.close_note = note.strip()[:2000]
    case.save(update_fields=["status", "close_reason", "close_note", "updated_at"])
    record_event(case.workspace, "case.closed", case=case, actor=membership.user, reason=reason, note=case.close_note)
    return case
