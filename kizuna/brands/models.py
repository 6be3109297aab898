"""What a workspace listens for: brands, their keyword rules, and the departments it routes to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.accounts.models import Workspace


class Brand(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="brands")
    key = models.SlugField(_("id"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    aliases = models.JSONField(default=list, blank=True)
    # Triage reads this to tell the brand from the same words in another sense.
    description = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="brand_key_per_workspace")]
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="rules")
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    key = models.SlugField(_("id"), max_length=64)
    query = models.TextField(_("query"))
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="rule_key_per_workspace")]
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}: {self.query}"


class Department(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="departments")
    key = models.SlugField(_("id"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="department_key_per_workspace")]
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class BackfillStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BackfillJob(models.Model):
    """Apply one rule to stored posts of the last N days, in batches, with visible progress."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="backfills")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="backfills")
    days = models.PositiveIntegerField(default=7)
    status = models.CharField(max_length=10, choices=BackfillStatus.choices, default=BackfillStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    cases_opened = models.PositiveIntegerField(default=0)
    # Posts are visited in id order; the last id done, so a crash resumes where it stopped.
    cursor = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"backfill {self.rule.key} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.processed / self.total))
