"""Workspaces (tenants) and the people in them, each with one role per workspace."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Workspace(models.Model):
    """One company. Nothing crosses workspaces."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=200)
    # Configuration-as-code sections that are plain data (see kizuna.brands.config).
    routing = models.JSONField(default=list, blank=True)
    policy = models.JSONField(default=dict, blank=True)
    # The [approval] table: which replies wait for a supervisor (trainees' always do).
    approval = models.JSONField(default=dict, blank=True)
    business_hours = models.JSONField(default=dict, blank=True)
    # Crisis mode (炎上対応): every reply waits for approval and every policy rule blocks.
    crisis_mode = models.BooleanField(default=False)
    own_accounts = models.JSONField(default=list, blank=True)
    # The [collection] table: noise filters and the block list (see kizuna.core.noise).
    collection = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    TRAINEE = "trainee", _("Trainee")
    SUPERVISOR = "supervisor", _("Supervisor")
    DEPARTMENT = "department", _("Department member")
    ADMIN = "admin", _("Admin")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OPERATOR)
    # The name the operator signs public replies with (「担当の鈴木です」).
    display_name = models.CharField(_("display name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_workspace")]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.role}) @ {self.workspace.slug}"
