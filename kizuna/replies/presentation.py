"""How policy findings read in the UI: a translated rule name and the words that broke it.

The core's messages are English and exact (for the CLI and logs); the desk shows operators
what to change, in their language, quoting their own draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

RULE_LABELS: dict[str, Promise] = {
    "length": _("Too long for the network"),
    "signature": _("Does not name you (e.g. 「担当の○○です」)"),
    "sales": _("Selling or promotion"),
    "incentive": _("Discount, coupon, refund or gift offered"),
    "symbol": _("Emoji or symbol outside the agreed set"),
    "dm": _("Moves to direct messages or asks for personal data in public"),
    "pii": _("Repeats the customer's personal data in public"),
    "copy": _("Nearly the same as an earlier reply (copy-paste)"),
}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    label: str
    excerpt: str
    detail: str


def present_findings(lint: dict[str, Any], draft: str) -> list[Finding]:
    """Return the findings of a stored or fresh lint result, ready to show."""
    out = []
    for v in lint.get("violations", []):
        start, end = (v.get("span") or [0, 0])[:2]
        excerpt = draft[start:end] if 0 <= start < end <= len(draft) else ""
        label = RULE_LABELS.get(v.get("rule", ""), v.get("rule", ""))
        out.append(Finding(v.get("rule", ""), v.get("severity", ""), str(label), excerpt[:80], v.get("message", "")))
    return out
