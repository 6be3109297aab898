"""The crisis banner shown on every page of a workspace with an open alert or crisis mode."""

from __future__ import annotations

from typing import Any

from django import template

from kizuna.accounts.models import Workspace
from kizuna.triage.crisis import open_alerts

register = template.Library()


@register.inclusion_tag("triage/_banner.html")
def crisis_banner(workspace: Workspace | None) -> dict[str, Any]:
    """Render the banner (nothing when all is calm)."""
    if workspace is None:
        return {"alerts": [], "workspace": None}
    return {"alerts": open_alerts(workspace), "workspace": workspace}
