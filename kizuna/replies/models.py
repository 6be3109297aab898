"""Replies written by operators, and the outbox that publishes them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.accounts.models import Workspace


class ReplyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DRY_RUN = "dry_run", _("Not sent (dry run)")
    FAILED = "failed", _("Failed")


class Reply(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="replies")
    case = models.ForeignKey("inbox.Case", on_delete=models.CASCADE, related_name="replies")
    in_reply_to = models.ForeignKey("sources.Post", on_delete=models.CASCADE, related_name="our_replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="replies")
    text = models.TextField(_("reply"))
    status = models.CharField(max_length=20, choices=ReplyStatus.choices, default=ReplyStatus.DRAFT)
    # Sent with every publish attempt so a retried send can be recognised, never doubled.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    platform_post_id = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"reply {self.pk} on case {self.case_id} ({self.status})"
