"""What the pipeline could not take: kept with the reason, never dropped."""

from __future__ import annotations

from django.db import models

from kizuna.accounts.models import Workspace


class QuarantinedPayload(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="quarantine")
    source = models.ForeignKey("sources.Source", null=True, blank=True, on_delete=models.SET_NULL)
    # Where it came from, e.g. "import posts.jsonl line 7" or "demo stream".
    origin = models.CharField(max_length=300)
    reason = models.TextField()
    # Kept as text: a broken payload may not be valid JSON.
    payload = models.TextField()
    # The same broken payload delivered again is counted, not stored twice.
    digest = models.CharField(max_length=64)
    seen_count = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["workspace", "digest"], name="quarantine_once_per_payload")]

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"
