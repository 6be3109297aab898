"""What triage learns from (operators' decisions), the models it trains, and crisis alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.accounts.models import Workspace


class FeedbackKind(models.TextChoices):
    CORRECTED = "corrected", _("Labels corrected")
    REPLY_SENT = "reply_sent", _("Reply sent")
    CLOSED = "closed", _("Closed without reply")
    REASSIGNED = "reassigned", _("Department reassigned")


class TriageFeedback(models.Model):
    """One operator decision, kept as a labelled example for retraining."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="triage_feedback")
    case = models.ForeignKey("inbox.Case", null=True, on_delete=models.SET_NULL, related_name="feedback")
    kind = models.CharField(max_length=20, choices=FeedbackKind.choices)
    text = models.TextField()
    context = models.JSONField(default=list, blank=True)
    brand = models.CharField(max_length=64, blank=True)
    author_followers = models.PositiveIntegerField(default=0)
    # Blank where the decision says nothing about that label.
    intent = models.CharField(max_length=20, blank=True)
    response = models.CharField(max_length=20, blank=True)
    risk = models.CharField(max_length=10, blank=True)
    department = models.CharField(max_length=64, blank=True)
    # What the model had said, to measure how often the team overrules it.
    predicted = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"


class ModelVersion(models.Model):
    """A triage model trained for a workspace (the shipped default has no row)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="triage_models")
    version = models.CharField(max_length=100)
    path = models.CharField(max_length=500)
    metrics = models.JSONField(default=dict)
    training_rows = models.PositiveIntegerField(default=0)
    feedback_rows = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=False)
    trained_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-trained_at"]
        constraints = [models.UniqueConstraint(fields=["workspace", "version"], name="model_version_once")]

    def __str__(self) -> str:
        return self.version


class CrisisStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class CrisisAlert(models.Model):
    """A brand's negative or high-risk posts spiking against its own baseline (炎上の兆候)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="crisis_alerts")
    brand = models.ForeignKey("brands.Brand", null=True, on_delete=models.CASCADE, related_name="crisis_alerts")
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()
    baseline = models.FloatField()
    threshold = models.FloatField()
    status = models.CharField(max_length=20, choices=CrisisStatus.choices, default=CrisisStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["workspace", "brand", "hour"], name="one_alert_per_brand_hour")]

    def __str__(self) -> str:
        return f"crisis {self.brand_id} at {self.hour:%Y-%m-%d %H}:00"
