"""What a good first reply covers, by intent and response kind: points, never canned text.

The practice forbids copy-paste (コピペ禁止); the desk shows the points to cover and the
operator writes them in their own words.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

COMMON: tuple[Promise, ...] = (
    _("Name yourself: 「担当の○○です」."),
    _("Use the customer's own words for the product and the problem; no stock phrases."),
    _("Never sell, never offer discounts or freebies to quiet a complaint."),
)

BY_RESPONSE: dict[str, tuple[Promise, ...]] = {
    "thanks": (
        _("Thank them for something specific they said (the flavour, the shop, the moment)."),
        _("Share a small, true detail from our side if there is one; keep it short."),
    ),
    "apology": (
        _("Apologise for the trouble they had, without arguing or blaming."),
        _("Ask what happened and where (which product, shop, order), without asking for personal data in public."),
        _("Offer the next step: the enquiry form or phone with a reference code, not a DM."),
    ),
    "guidance": (
        _("Answer the question itself first, in one or two sentences."),
        _("Link to the official page if it helps (use a short link to see if it was useful)."),
        _("Invite them to ask again in the thread if it is still unclear."),
    ),
    "none": (_("Usually no reply is needed. If you reply, make sure it is welcome and not intrusive."),),
}

BY_INTENT: dict[str, tuple[Promise, ...]] = {
    "urgent": (_("They are in trouble now: give the one thing they can do right away, then the rest."),),
    "defect": (
        _("If health or safety is involved (foreign object, allergy, injury), hand off to お客様相談室 by phone."),
    ),
    "staff": (_("Do not defend the staff in public; thank them for telling us and hand off to the department."),),
    "delivery": (
        _("Say what you can check (order status) and how they can reach us with the order number privately."),
    ),
    "request": (_("Say that you passed the request on to the team (要望リスト); do not promise it."),),
    "complaint": (_("Acknowledge the feeling; explain a policy only if they asked why."),),
    "question": (),
    "praise": (),
    "mention": (),
    "noise": (_("This is probably not about us: close it as noise instead of replying."),),
}


def guidance_points(intent: str, response: str) -> list[Promise]:
    """Return the points a first reply of this kind should cover, most specific first."""
    return [*BY_INTENT.get(intent, ()), *BY_RESPONSE.get(response, ()), *COMMON]
