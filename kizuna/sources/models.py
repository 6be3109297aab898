"""Where posts come from (sources), who wrote them (authors) and the posts themselves."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.accounts.models import Workspace
from kizuna.sources.crypto import decrypt_json, encrypt_json


class Platform(models.TextChoices):
    DEMO = "demo", _("Demo")
    X = "x", "X"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    RSS = "rss", _("Blog / RSS")
    WEBHOOK = "webhook", _("Webhook")
    IMPORT = "import", _("Import")


class Exclusion(models.TextChoices):
    """Why a post that matched a rule opened no case (reviewable on the exclusions page)."""

    REPOST = "repost", _("Repost")
    OWN_ACCOUNT = "own_account", _("Our own account")
    BLOCKED_AUTHOR = "blocked_author", _("Author on the block list")
    CAMPAIGN_BURST = "campaign_burst", _("Same text from many authors (campaign or spam)")


class Source(models.Model):
    """A platform account or feed a workspace collects from and replies through."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sources")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    name = models.CharField(_("name"), max_length=200)
    # Our own account on the platform: its posts are ours, never new cases.
    handle = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    credentials_encrypted = models.TextField(blank=True, editable=False)
    cursor = models.CharField(max_length=200, blank=True)
    # Non-secret configuration (feeds, stream kind, instance URL, monthly read budget...).
    settings = models.JSONField(default=dict, blank=True)
    # What the collector needs to resume (since_ids, Jetstream cursor, ETags): plain data.
    state = models.JSONField(default=dict, blank=True)
    quotas = models.JSONField(default=list, blank=True)
    connected = models.BooleanField(default=False)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_post_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # The latest errors with their time, newest first (the health page shows them).
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.platform})"

    def set_credentials(self, data: dict[str, Any]) -> None:
        self.credentials_encrypted = encrypt_json(data) if data else ""

    def get_credentials(self) -> dict[str, Any]:
        return decrypt_json(self.credentials_encrypted) if self.credentials_encrypted else {}

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)


class Author(models.Model):
    """A platform identity as seen by one workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="authors")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    handle = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200, blank=True)
    followers_count = models.PositiveIntegerField(default=0)
    profile = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "platform", "handle"], name="author_per_platform")]

    def __str__(self) -> str:
        return f"@{self.handle}"


class Post(models.Model):
    """One social-media item. Idempotent on (workspace, platform, platform post id)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="posts")
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    platform_post_id = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="posts")
    text = models.TextField()
    created_at = models.DateTimeField(db_index=True)
    collected_at = models.DateTimeField(auto_now_add=True)
    url = models.URLField(max_length=500, blank=True)
    lang = models.CharField(max_length=16, blank=True)
    in_reply_to = models.CharField(max_length=200, blank=True)
    thread_id = models.CharField(max_length=200, blank=True, db_index=True)
    is_repost = models.BooleanField(default=False)
    # Written by one of our own accounts (our replies as they come back from the platform).
    is_ours = models.BooleanField(default=False)
    matched_rules = models.JSONField(default=list, blank=True)
    exclusion = models.CharField(max_length=20, choices=Exclusion.choices, blank=True)
    exclusion_detail = models.CharField(max_length=300, blank=True)
    # Fingerprint of the normalized text, to spot the same campaign text from many authors.
    text_hash = models.CharField(max_length=40, blank=True)
    case = models.ForeignKey("inbox.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="posts")
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "platform", "platform_post_id"], name="post_unique_per_platform"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "author", "created_at"]),
            models.Index(fields=["workspace", "text_hash", "created_at"]),
            models.Index(fields=["workspace", "exclusion", "created_at"]),
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.platform}:{self.platform_post_id}"
