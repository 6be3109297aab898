"""Template helpers for the inbox."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from kizuna.triage.reasons import describe_reason

register = template.Library()

VERB_LABELS = {
    "case.opened": _("Case opened"),
    "case.post_added": _("New post in the conversation"),
    "case.reopened": _("Customer answered: reopened"),
    "case.taken": _("Taken"),
    "case.closed": _("Closed"),
    "case.waiting": _("Waiting for the customer"),
    "reply.created": _("Reply written"),
    "reply.dry_run": _("Reply kept in the dry-run outbox"),
    "reply.queued": _("Reply queued for sending"),
    "reply.pending_approval": _("Reply waits for approval"),
    "reply.approved": _("Reply approved"),
    "reply.edited_and_approved": _("Reply edited and approved"),
    "reply.rejected": _("Reply sent back"),
    "reply.sent": _("Reply published"),
    "reply.by_hand": _("Replied by hand"),
    "reply.retry_scheduled": _("Sending will be retried"),
    "reply.failed": _("Sending failed"),
    "reply.retried": _("Reply retried"),
    "case.handed_off": _("Handed off"),
    "case.handoff_outcome": _("Handoff outcome recorded"),
    "case.relabelled": _("Labels corrected"),
    "case.context_fetched": _("Context fetched"),
    "post.restored": _("Excluded post restored"),
    "link.created": _("Short link created"),
}


@register.filter
def verb_label(verb: str) -> str:
    """Return the readable name of an audit verb (the verb itself when unknown)."""
    return str(VERB_LABELS.get(verb, verb))


@register.filter
def triage_reason(reason: str) -> str:
    """Return a triage reason in the active language (see kizuna.triage.reasons)."""
    return describe_reason(str(reason))
