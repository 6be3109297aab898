"""Writing replies and handing them to the outbox."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership
from kizuna.accounts.permissions import Perm, role_has
from kizuna.inbox.audit import record_event
from kizuna.inbox.models import Case, CaseStatus
from kizuna.replies.models import Reply, ReplyStatus
from kizuna.sources.models import Post

MAX_REPLY_CHARS = 5000


@transaction.atomic
def do_write_reply(membership: Membership, case: Case, *, text: str) -> Reply:
    """Write a reply to the case's latest customer post and publish it through the outbox.

    With no credentials on the case's source the reply is recorded as "not sent (dry run)".
    """
    if case.workspace_id != membership.workspace_id or not role_has(membership.role, Perm.DRAFT_REPLY):
        raise PermissionDenied
    text = text.strip()
    if not text:
        raise ValidationError(_("The reply is empty."))
    if len(text) > MAX_REPLY_CHARS:
        raise ValidationError(_("The reply is longer than %(n)d characters.") % {"n": MAX_REPLY_CHARS})
    case = Case.objects.select_for_update().get(pk=case.pk)
    target = Post.objects.filter(case=case, is_ours=False).order_by("-created_at").select_related("source").first()
    if target is None:
        raise ValidationError(_("This case has no post to reply to."))
    reply = Reply.objects.create(
        workspace=case.workspace, case=case, in_reply_to=target, author=membership.user, text=text
    )
    record_event(case.workspace, "reply.created", case=case, actor=membership.user, reply_id=reply.pk)
    if not role_has(membership.role, Perm.SEND_REPLY):
        # Trainee drafts wait for approval (the replies issue adds the approval queue).
        return reply
    source = target.source
    if source is None or not source.has_credentials:
        reply.status = ReplyStatus.DRY_RUN
        reply.sent_at = timezone.now()
        reply.save(update_fields=["status", "sent_at"])
        record_event(case.workspace, "reply.dry_run", case=case, actor=membership.user, reply_id=reply.pk)
    else:
        reply.status = ReplyStatus.QUEUED
        reply.save(update_fields=["status"])
        record_event(case.workspace, "reply.queued", case=case, actor=membership.user, reply_id=reply.pk)
    if case.assignee_id is None:
        case.assignee = membership.user
    case.status = CaseStatus.WAITING
    case.save(update_fields=["assignee", "status", "updated_at"])
    record_event(case.workspace, "case.waiting", case=case, actor=membership.user)
    return reply
