"""Replies written by operators, the outbox that publishes them, short links and handoffs."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.accounts.models import Workspace


class ReplyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    REJECTED = "rejected", _("Rejected")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DRY_RUN = "dry_run", _("Not sent (dry run)")
    HAND = "hand", _("Replied by hand")
    FAILED = "failed", _("Failed")


# Statuses of a reply that is on its way out: a second one on the same case is flagged.
IN_FLIGHT = (ReplyStatus.PENDING_APPROVAL, ReplyStatus.QUEUED, ReplyStatus.SENDING)
DELIVERED = (ReplyStatus.SENT, ReplyStatus.DRY_RUN, ReplyStatus.HAND)


class Reply(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="replies")
    case = models.ForeignKey("inbox.Case", on_delete=models.CASCADE, related_name="replies")
    in_reply_to = models.ForeignKey("sources.Post", on_delete=models.CASCADE, related_name="our_replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="replies")
    text = models.TextField(_("reply"))
    # What kind of first reply the operator chose (お礼 / お詫び / ご案内): a label triage learns from.
    kind = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=ReplyStatus.choices, default=ReplyStatus.DRAFT)
    # Why it waits for approval (trainee, high risk, staff complaint, two drafts...).
    approval_reasons = models.JSONField(default=list, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    # Another reply of the same case that was on its way when this one was written.
    conflicts_with = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The policy the text passed, and what the linter said (warnings stay visible).
    policy_version = models.PositiveIntegerField(default=0)
    lint = models.JSONField(default=dict, blank=True)
    # Sent with every publish attempt so a retried send can be recognised, never doubled.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    platform_post_id = models.CharField(max_length=200, blank=True)
    platform_url = models.URLField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"]), models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return f"reply {self.pk} on case {self.case_id} ({self.status})"


def new_short_code() -> str:
    return secrets.token_urlsafe(5)[:7]


class ShortLink(models.Model):
    """A link on the workspace's own domain (/s/<code>) that counts clicks, for effect reports."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="short_links")
    code = models.CharField(max_length=16, unique=True, default=new_short_code)
    target_url = models.URLField(max_length=2000)
    case = models.ForeignKey("inbox.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="links")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    clicks = models.PositiveIntegerField(default=0)
    last_click_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"/s/{self.code} → {self.target_url}"


def new_handoff_code() -> str:
    # Read out over the phone: no 0/O, 1/I/L.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "KZ-" + "".join(secrets.choice(alphabet) for _ in range(6))


class HandoffChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")


class Handoff(models.Model):
    """Moving a case to phone or e-mail without making the customer repeat themselves (経緯の共有)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="handoffs")
    case = models.ForeignKey("inbox.Case", on_delete=models.CASCADE, related_name="handoffs")
    code = models.CharField(max_length=12, unique=True, default=new_handoff_code)
    channel = models.CharField(max_length=10, choices=HandoffChannel.choices)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    outcome = models.TextField(blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.code
