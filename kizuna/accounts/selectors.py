"""Permission-checked reads: every view resolves its workspace through here."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kizuna.accounts.models import Membership
from kizuna.accounts.permissions import Perm, role_has


def access_membership(user: AbstractBaseUser | AnonymousUser, slug: str, perm: Perm) -> Membership:
    """Return the user's membership of workspace `slug` if their role grants `perm`.

    Someone outside the workspace gets 404 (its existence is not revealed); a member whose
    role lacks the permission gets 403.
    """
    if not user.is_authenticated:
        raise PermissionDenied
    membership = (
        Membership.objects.select_related("workspace", "user").filter(user_id=user.pk, workspace__slug=slug).first()
    )
    if membership is None:
        raise Http404("No such workspace")
    if not role_has(membership.role, perm):
        raise PermissionDenied
    return membership


def memberships_of(user: AbstractBaseUser | AnonymousUser) -> list[Membership]:
    """Return the user's memberships, workspace loaded."""
    if not user.is_authenticated:
        return []
    return list(Membership.objects.select_related("workspace").filter(user_id=user.pk).order_by("workspace__name"))
