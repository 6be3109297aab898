"""Which replies wait for a supervisor before they go out."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership, Role
from kizuna.inbox.models import Case


def approval_reasons(membership: Membership, case: Case) -> list[str]:
    """Return why a reply by this member on this case needs approval (empty: it does not).

    A trainee's replies always do; the workspace's [approval] table adds all replies, high
    risk, some intents (staff complaints by default in the demo) and some brands.
    """
    cfg = case.workspace.approval or {}
    reasons = []
    if membership.role == Role.TRAINEE:
        reasons.append(_("written by a trainee"))
    if case.workspace.crisis_mode:
        reasons.append(_("crisis mode: every reply is approved"))
    if cfg.get("all_replies"):
        reasons.append(_("every reply is approved in this workspace"))
    if cfg.get("high_risk") and case.risk == "high":
        reasons.append(_("high-risk case"))
    if case.intent in cfg.get("intents", ()):
        reasons.append(_("intent: %(intent)s") % {"intent": case.get_intent_display()})
    if case.brand and case.brand.key in cfg.get("brands", ()):
        reasons.append(_("brand: %(brand)s") % {"brand": case.brand.name})
    return reasons
