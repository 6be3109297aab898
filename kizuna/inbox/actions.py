"""The only writers of cases. Each checks permission and workspace, and writes an audit event."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership
from kizuna.accounts.permissions import Perm, role_has
from kizuna.brands.models import Department
from kizuna.inbox.audit import record_event
from kizuna.inbox.models import Case, CaseStatus, CloseReason, Intent, ResponseKind, Risk
from kizuna.triage.feedback import record_feedback
from kizuna.triage.models import FeedbackKind


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
    if reason in (CloseReason.NOISE, CloseReason.SPAM):
        record_feedback(
            case, FeedbackKind.CLOSED, actor=membership.user, intent=Intent.NOISE, response=ResponseKind.NONE
        )
    elif reason == CloseReason.NO_ACTION:
        record_feedback(case, FeedbackKind.CLOSED, actor=membership.user, response=ResponseKind.NONE)
    return case


@transaction.atomic
def do_correct_triage(
    membership: Membership, case: Case, *, intent: str, response: str, risk: str, department_key: str
) -> Case:
    """Correct the labels triage gave a case; the correction becomes a training example."""
    _check(membership, case, Perm.TAKE_CASE)
    if intent not in Intent.values or response not in ResponseKind.values or risk not in Risk.values:
        raise ValidationError(_("Choose a value for every label."))
    department = None
    if department_key:
        department = Department.objects.filter(workspace_id=case.workspace_id, key=department_key).first()
        if department is None:
            raise ValidationError(_("Unknown department."))
    case = Case.objects.select_for_update(of=("self",)).select_related("department", "brand").get(pk=case.pk)
    before = {
        "intent": case.intent,
        "response": case.response,
        "risk": case.risk,
        "department": case.department.key if case.department else "",
    }
    after = {"intent": intent, "response": response, "risk": risk, "department": department_key}
    if before == after:
        return case
    kind = (
        FeedbackKind.REASSIGNED
        if {k for k in after if after[k] != before[k]} == {"department"}
        else FeedbackKind.CORRECTED
    )
    record_feedback(case, kind, actor=membership.user, **after)
    case.intent, case.response, case.risk, case.department = intent, response, risk, department
    case.save(update_fields=["intent", "response", "risk", "department", "updated_at"])
    record_event(case.workspace, "case.relabelled", case=case, actor=membership.user, before=before, after=after)
    return case
