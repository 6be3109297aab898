"""What each role may do. One table, checked by every view and action."""

from __future__ import annotations

from enum import StrEnum

from kizuna.accounts.models import Role


class Perm(StrEnum):
    VIEW_INBOX = "view_inbox"
    TAKE_CASE = "take_case"
    CLOSE_CASE = "close_case"
    DRAFT_REPLY = "draft_reply"
    SEND_REPLY = "send_reply"  # publish without approval
    APPROVE_REPLY = "approve_reply"
    HANDOFF = "handoff"  # move a case to phone or e-mail
    RECORD_OUTCOME = "record_outcome"  # the call centre writes back what happened
    VIEW_QUARANTINE = "view_quarantine"
    # Keyword rules, noise review and the block list: the daily tuning supervisors do.
    MANAGE_RULES = "manage_rules"
    MANAGE_CONFIG = "manage_config"


_ALL = frozenset(Perm)
_WORKER = frozenset(
    {
        Perm.VIEW_INBOX,
        Perm.TAKE_CASE,
        Perm.CLOSE_CASE,
        Perm.DRAFT_REPLY,
        Perm.SEND_REPLY,
        Perm.HANDOFF,
        Perm.RECORD_OUTCOME,
    }
)

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: _ALL,
    Role.SUPERVISOR: _WORKER | {Perm.VIEW_QUARANTINE, Perm.MANAGE_RULES, Perm.APPROVE_REPLY},
    Role.OPERATOR: _WORKER,
    # Trainees draft; every reply they write waits for approval (replies issue).
    Role.TRAINEE: frozenset({Perm.VIEW_INBOX, Perm.TAKE_CASE, Perm.DRAFT_REPLY}),
    Role.DEPARTMENT: frozenset({Perm.VIEW_INBOX, Perm.RECORD_OUTCOME}),
    Role.VIEWER: frozenset({Perm.VIEW_INBOX}),
}


def role_has(role: str, perm: Perm) -> bool:
    """Return whether a role grants a permission."""
    return perm in ROLE_PERMS.get(role, frozenset())
