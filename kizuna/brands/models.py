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
