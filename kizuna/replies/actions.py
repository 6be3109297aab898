"""The only writers of replies, short links and handoffs. Each checks permission and audits."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership
from kizuna.accounts.permissions import Perm, role_has
from kizuna.core.policy import LintResult
from kizuna.inbox.audit import record_event
from kizuna.inbox.models import Case, CaseStatus, ResponseKind
from kizuna.replies.approval import approval_reasons
from kizuna.replies.models import DELIVERED, IN_FLIGHT, Handoff, HandoffChannel, Reply, ReplyStatus, ShortLink
from kizuna.replies.policy import lint_draft, reply_target
from kizuna.replies.publishers import BY_HAND, publisher_for
from kizuna.triage.feedback import record_feedback
from kizuna.triage.models import FeedbackKind

MAX_REPLY_CHARS = 5000


class ReplyBlocked(ValidationError):
    """The draft breaks a blocking rule of the posting policy."""

    def __init__(self, result: LintResult) -> None:
        self.result = result
        super().__init__([v.message for v in result.violations if v.severity == "block"])


def _check(membership: Membership, workspace_id: int, perm: Perm) -> None:
    if membership.workspace_id != workspace_id or not role_has(membership.role, perm):
        raise PermissionDenied


def _clean(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError(_("The reply is empty."))
    if len(text) > MAX_REPLY_CHARS:
        raise ValidationError(_("The reply is longer than %(n)d characters.") % {"n": MAX_REPLY_CHARS})
    return text


@transaction.atomic
def do_write_reply(membership: Membership, case: Case, *, text: str, kind: str = "") -> Reply:
    """Check a reply against the posting policy and send it on: to approval or to the outbox.

    Blocking policy findings raise ReplyBlocked and nothing is stored. A reply written while
    another one of the same case is on its way is flagged and held for a supervisor.
    """
    _check(membership, case.workspace_id, Perm.DRAFT_REPLY)
    text = _clean(text)
    if kind and kind not in (ResponseKind.THANKS, ResponseKind.APOLOGY, ResponseKind.GUIDANCE):
        raise ValidationError(_("Choose thanks, apology or guidance."))
    case = Case.objects.select_for_update(of=("self",)).select_related("workspace", "brand").get(pk=case.pk)
    kind = kind or (case.response if case.response != ResponseKind.NONE else "")
    target = reply_target(case)
    if target is None:
        raise ValidationError(_("This case has no post to reply to."))
    result = lint_draft(membership, case, text)
    if result.blocked:
        raise ReplyBlocked(result)
    reasons = approval_reasons(membership, case)
    if not role_has(membership.role, Perm.SEND_REPLY) and not reasons:
        reasons.append(_("this role cannot publish"))
    other = Reply.objects.filter(case=case, status__in=IN_FLIGHT).order_by("-created_at").first()
    if other is not None:
        reasons.append(_("another reply (#%(id)d) on this case is already on its way") % {"id": other.pk})
    reply = Reply.objects.create(
        workspace=case.workspace,
        case=case,
        in_reply_to=target,
        author=membership.user,
        text=text,
        kind=kind,
        approval_reasons=reasons,
        conflicts_with=other,
        policy_version=result.policy_version,
        lint=result.to_dict(),
    )
    record_event(case.workspace, "reply.created", case=case, actor=membership.user, reply_id=reply.pk)
    if case.assignee_id is None:
        case.assignee = membership.user
        case.status = CaseStatus.OPEN
        case.save(update_fields=["assignee", "status", "updated_at"])
    if reasons:
        reply.status = ReplyStatus.PENDING_APPROVAL
        reply.save(update_fields=["status"])
        record_event(
            case.workspace,
            "reply.pending_approval",
            case=case,
            actor=membership.user,
            reply_id=reply.pk,
            reasons=reasons,
        )
        return reply
    _dispatch(reply, membership)
    return reply


def _dispatch(reply: Reply, membership: Membership) -> None:
    """Hand an approved reply to the outbox, or record it as dry run / replied by hand."""
    source = reply.in_reply_to.source
    if source is not None and source.platform in BY_HAND:
        # A blog cannot be answered through an API: the operator answers there, we keep the link.
        reply.status, reply.sent_at = ReplyStatus.HAND, timezone.now()
        reply.platform_url = reply.in_reply_to.url
        verb = "reply.by_hand"
    elif publisher_for(source) is None:
        reply.status, reply.sent_at = ReplyStatus.DRY_RUN, timezone.now()
        verb = "reply.dry_run"
    else:
        reply.status = ReplyStatus.QUEUED
        verb = "reply.queued"
    reply.save(update_fields=["status", "sent_at", "platform_url"])
    case = reply.case
    record_event(case.workspace, verb, case=case, actor=membership.user, reply_id=reply.pk)
    case.status = CaseStatus.WAITING
    case.save(update_fields=["status", "updated_at"])
    record_event(case.workspace, "case.waiting", case=case, actor=membership.user)
    if reply.kind:
        record_feedback(case, FeedbackKind.REPLY_SENT, actor=reply.author, response=reply.kind)


@transaction.atomic
def do_approve_reply(membership: Membership, reply: Reply, *, text: str | None = None) -> Reply:
    """Approve a held reply, optionally editing it first; the edit is linted again.

    Refused when another reply of the case went out after this one was written: the two
    drafts must never both be sent.
    """
    _check(membership, reply.workspace_id, Perm.APPROVE_REPLY)
    reply = (
        Reply.objects.select_for_update(of=("self",))
        .select_related("case__workspace", "in_reply_to__source")
        .get(pk=reply.pk)
    )
    if reply.status != ReplyStatus.PENDING_APPROVAL:
        raise ValidationError(_("This reply is not waiting for approval."))
    rivals = Reply.objects.filter(case=reply.case).exclude(pk=reply.pk)
    in_flight = rivals.filter(status__in=[ReplyStatus.QUEUED, ReplyStatus.SENDING]).exists()
    went_out_since = rivals.filter(status__in=DELIVERED, sent_at__gte=reply.created_at).exists()
    if in_flight or went_out_since:
        raise ValidationError(_("Another reply on this case has already gone out. Reject this one or write a new one."))
    edited = text is not None and _clean(text) != reply.text
    if edited:
        assert text is not None
        author = reply.case.workspace.memberships.get(user_id=reply.author_id)
        result = lint_draft(author, reply.case, _clean(text), exclude_reply=reply.pk)
        if result.blocked:
            raise ReplyBlocked(result)
        reply.text, reply.lint, reply.policy_version = _clean(text), result.to_dict(), result.policy_version
    reply.approved_by, reply.approved_at = membership.user, timezone.now()
    reply.save(update_fields=["text", "lint", "policy_version", "approved_by", "approved_at"])
    record_event(
        reply.case.workspace,
        "reply.edited_and_approved" if edited else "reply.approved",
        case=reply.case,
        actor=membership.user,
        reply_id=reply.pk,
    )
    # Its rivals still waiting are superseded: one conversation, one reply.
    for rival in rivals.filter(status=ReplyStatus.PENDING_APPROVAL).select_related("case__workspace"):
        _send_back(rival, membership, _("Superseded by reply #%(id)d.") % {"id": reply.pk})
    _dispatch(reply, membership)
    return reply


@transaction.atomic
def do_reject_reply(membership: Membership, reply: Reply, *, note: str) -> Reply:
    """Send a held reply back to its author with a note."""
    _check(membership, reply.workspace_id, Perm.APPROVE_REPLY)
    reply = Reply.objects.select_for_update(of=("self",)).select_related("case__workspace").get(pk=reply.pk)
    if reply.status != ReplyStatus.PENDING_APPROVAL:
        raise ValidationError(_("This reply is not waiting for approval."))
    if not note.strip():
        raise ValidationError(_("Say why, so the author can do better."))
    _send_back(reply, membership, note)
    return reply


def _send_back(reply: Reply, membership: Membership, note: str) -> None:
    """Reject a held reply with a note for its author, audited."""
    reply.status, reply.review_note = ReplyStatus.REJECTED, note.strip()[:2000]
    reply.save(update_fields=["status", "review_note"])
    record_event(
        reply.case.workspace,
        "reply.rejected",
        case=reply.case,
        actor=membership.user,
        reply_id=reply.pk,
        note=reply.review_note,
    )


@transaction.atomic
def do_retry_reply(membership: Membership, reply: Reply) -> Reply:
    """Put a failed reply back in the outbox (or the dry run, if the source lost its credentials)."""
    _check(membership, reply.workspace_id, Perm.SEND_REPLY)
    reply = (
        Reply.objects.select_for_update(of=("self",))
        .select_related("case__workspace", "in_reply_to__source")
        .get(pk=reply.pk)
    )
    if reply.status != ReplyStatus.FAILED:
        raise ValidationError(_("Only a failed reply can be retried."))
    reply.error, reply.next_attempt_at, reply.attempts = "", None, 0
    reply.save(update_fields=["error", "next_attempt_at", "attempts"])
    record_event(reply.case.workspace, "reply.retried", case=reply.case, actor=membership.user, reply_id=reply.pk)
    _dispatch(reply, membership)
    return reply


def do_create_short_link(membership: Membership, case: Case, *, url: str) -> ShortLink:
    """Create a /s/<code> link to an http(s) URL, counted for the effect reports."""
    _check(membership, case.workspace_id, Perm.DRAFT_REPLY)
    from django.core.validators import URLValidator

    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(_("Enter a full http:// or https:// address.")) from None
    link = ShortLink.objects.create(workspace=case.workspace, target_url=url, case=case, created_by=membership.user)
    record_event(case.workspace, "link.created", case=case, actor=membership.user, code=link.code, url=url)
    return link


@transaction.atomic
def do_hand_off(membership: Membership, case: Case, *, channel: str, note: str) -> Handoff:
    """Move a case to phone or e-mail with a reference code the call centre looks up."""
    _check(membership, case.workspace_id, Perm.HANDOFF)
    if channel not in HandoffChannel.values:
        raise ValidationError(_("Choose phone or e-mail."))
    handoff = Handoff.objects.create(
        workspace=case.workspace, case=case, channel=channel, note=note.strip()[:2000], created_by=membership.user
    )
    record_event(
        case.workspace, "case.handed_off", case=case, actor=membership.user, code=handoff.code, channel=channel
    )
    return handoff


@transaction.atomic
def do_record_outcome(membership: Membership, handoff: Handoff, *, outcome: str) -> Handoff:
    """Record what happened on the phone or by e-mail, back on the case."""
    _check(membership, handoff.workspace_id, Perm.RECORD_OUTCOME)
    if not outcome.strip():
        raise ValidationError(_("Write what happened."))
    handoff.outcome, handoff.outcome_by, handoff.outcome_at = outcome.strip()[:5000], membership.user, timezone.now()
    handoff.save(update_fields=["outcome", "outcome_by", "outcome_at"])
    record_event(
        handoff.case.workspace,
        "case.handoff_outcome",
        case=handoff.case,
        actor=membership.user,
        code=handoff.code,
        outcome=handoff.outcome,
    )
    return handoff
