"""Writes for people and workspaces."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from kizuna.accounts.models import Membership, Role, Workspace


@transaction.atomic
def do_create_user(
    *, username: str, password: str, workspace: Workspace, role: str, display_name: str, email: str = ""
) -> AbstractUser:
    """Create a user (or update the password of an existing one) with a role in a workspace."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r} (expected one of {', '.join(Role.values)})")
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(
        user=user, workspace=workspace, defaults={"role": role, "display_name": display_name}
    )
    assert isinstance(user, AbstractUser)
    return user
