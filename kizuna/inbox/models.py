"""Cases (one conversation with one person) and the audit trail of every change."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.accounts.models import Workspace


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("In progress")
    WAITING = "waiting", _("Waiting for customer")
    CLOSED = "closed", _("Closed")


class Intent(models.TextChoices):
    PRAISE = "praise", _("Praise")
    QUESTION = "question", _("Question")
    DEFECT = "defect", _("Defect")
    STAFF = "staff", _("Staff")
    URGENT = "urgent", _("Urgent")
    DELIVERY = "delivery", _("Delivery")
    REQUEST = "request", _("Request")
    COMPLAINT = "complaint", _("Complaint")
    MENTION = "mention", _("Mention")
    NOISE = "noise", _("Noise")


class ResponseKind(models.TextChoices):
    THANKS = "thanks", _("Thanks")
    APOLOGY = "apology", _("Apology")
    GUIDANCE = "guidance", _("Guidance")
    NONE = "none", _("No reply")


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class CloseReason(models.TextChoices):
    NO_ACTION = "no_action", _("Nothing to answer")
    NOISE = "noise", _("Not about us (noise)")
    RESOLVED = "resolved", _("Already resolved")
    HANDLED_ELSEWHERE = "handled_elsewhere", _("Handled by another channel")
    SPAM = "spam", _("Spam or bot")
    REPLIED = "replied", _("Replied, conversation ended")


class Case(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="cases")
    author = models.ForeignKey("sources.Author", on_delete=models.CASCADE, related_name="cases")
    brand = models.ForeignKey("brands.Brand", null=True, blank=True, on_delete=models.SET_NULL)
    thread_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    intent = models.CharField(max_length=20, choices=Intent.choices, default=Intent.MENTION)
    response = models.CharField(max_length=20, choices=ResponseKind.choices, default=ResponseKind.NONE)
    risk = models.CharField(max_length=10, choices=Risk.choices, default=Risk.LOW)
    department = models.ForeignKey("brands.Department", null=True, blank=True, on_delete=models.SET_NULL)
    confidence = models.FloatField(default=0.0)
    reasons = models.JSONField(default=list, blank=True)
    triage_model = models.CharField(max_length=64, blank=True)
    close_reason = models.CharField(max_length=30, choices=CloseReason.choices, blank=True)
    close_note = models.TextField(blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_post_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "status", "last_post_at"]),
            models.Index(fields=["workspace", "author"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(close_reason=""), name="closed_case_has_reason"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.author}"


class AuditEvent(models.Model):
    """One change of a case or reply. Its id is also the cursor of the live inbox stream."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    verb = models.CharField(max_length=50)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "id"])]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.verb} case={self.case_id}"
