"""Triage reasons in the operator's language.

The core writes each reason as one English line (the `kizuna triage` CLI prints them as they
are, and cases keep them so). The desk shows them translated: the shapes below are the only
ones the core writes (model.py), and the quoted words stay as the post wrote them. A line of
another shape is shown unchanged rather than guessed at.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.inbox.models import Intent, Risk

QUOTED = r"((?:「[^」]*」)+)"
WORDS_TO_INTENT = re.compile(QUOTED + r" → (\w+)")
WHOLE_POST = re.compile(r"(\w+): no single word decides it \(the whole post's wording\)")
OTHER_MEANING = re.compile(QUOTED + r": another meaning, not the brand \(per the brand's description\)")
FORCED_HIGH = re.compile(r"risk high: (.+)")
FORCED_PART = re.compile(QUOTED + r" \(([a-z ]+)\)")
REACH_REASON = re.compile(r"risk (\w+): large reach, the author has ([\d,]+) followers")

# The cue groups of lexicon.py that force or raise risk, by the name a reason gives them.
CUE_KINDS = {
    "health and safety": gettext_lazy("health and safety"),
    "legal or regulator": gettext_lazy("legal or regulator"),
    "personal data": gettext_lazy("personal data"),
    "discrimination or harassment": gettext_lazy("discrimination or harassment"),
    "spreading": gettext_lazy("asks others to spread it"),
    "money lost": gettext_lazy("money lost"),
    "accessibility": gettext_lazy("accessibility"),
    "urgent harm": gettext_lazy("harm right now"),
}


def _label(choices: type[Intent] | type[Risk], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def describe_reason(reason: str) -> str:
    """Return one triage reason as the operator reads it, in the active language."""
    reason = reason.strip()
    if m := WORDS_TO_INTENT.fullmatch(reason):
        return f"{m[1]} → {_label(Intent, m[2])}"
    if m := WHOLE_POST.fullmatch(reason):
        return _("%(intent)s: no single word decides it (the whole post's wording)") % {"intent": _label(Intent, m[1])}
    if m := OTHER_MEANING.fullmatch(reason):
        return _("%(words)s: used in another meaning, not the brand (per the brand's description)") % {"words": m[1]}
    if m := REACH_REASON.fullmatch(reason):
        return _("Risk %(risk)s: large reach, the author has %(followers)s followers") % {
            "risk": _label(Risk, m[1]),
            "followers": m[2],
        }
    if m := FORCED_HIGH.fullmatch(reason):
        parts = [FORCED_PART.fullmatch(p.strip()) for p in m[1].split("; ")]
        if all(p is not None and p[2] in CUE_KINDS for p in parts):
            found = "、".join(f"{p[1]}({CUE_KINDS[p[2]]})" for p in parts if p is not None)
            return _("Risk high: %(cues)s") % {"cues": found}
        return reason
    return reason
