"""Shared cast, per STYLE.md: alice (operator) and bob (supervisor) in the Hidamari workspace,
trent (trainee) and vera (viewer) there too, and charlie, an operator of another workspace, who
must be denied everything in Hidamari."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kizuna.accounts.actions import do_create_user
from kizuna.accounts.models import Membership, Role, Workspace
from kizuna.brands.config import do_load_config
from kizuna.core.config import load_config_file
from kizuna.core.posts import IncomingPost
from kizuna.sources.models import Platform, Source

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEMO_CONFIG = REPO / "kizuna" / "sources" / "demo" / "workspace.toml"
PASSWORD = "correct horse battery"


@dataclass
class Cast:
    ws: Workspace
    other: Workspace
    alice: User
    bob: User
    trent: User
    vera: User
    charlie: User
    source: Source

    def member(self, user: User) -> Membership:
        return Membership.objects.select_related("workspace", "user").get(user=user)

    def client(self, user: User) -> Client:
        c = Client()
        c.force_login(user)
        return c


@pytest.fixture
def cast(db: None) -> Cast:
    ws = do_load_config(load_config_file(DEMO_CONFIG), path=str(DEMO_CONFIG))
    other = Workspace.objects.create(slug="rival", name="Rival Corp")

    def make(name: str, w: Workspace, role: str, display: str) -> User:
        user = do_create_user(username=name, password=PASSWORD, workspace=w, role=role, display_name=display)
        assert isinstance(user, User)
        return user

    source = Source.objects.create(workspace=ws, platform=Platform.DEMO, name="demo", handle="hidamari_support")
    return Cast(
        ws=ws,
        other=other,
        alice=make("alice", ws, Role.OPERATOR, "鈴木"),
        bob=make("bob", ws, Role.SUPERVISOR, "高橋"),
        trent=make("trent", ws, Role.TRAINEE, "田中"),
        vera=make("vera", ws, Role.VIEWER, "山田"),
        charlie=make("charlie", other, Role.OPERATOR, "Charlie"),
        source=source,
    )


_counter = iter(range(1, 10**9))


def make_post(text: str, *, author: str = "mochi_neko12", post_id: str | None = None, **kw: object) -> IncomingPost:
    """Build an incoming demo post with sensible defaults."""
    pid = post_id or f"t{next(_counter)}"
    fields: dict[str, object] = {
        "platform": "demo",
        "platform_post_id": pid,
        "text": text,
        "author_handle": author,
        "created_at": datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        "thread_id": kw.get("thread_id") or kw.get("in_reply_to") or pid,
        "raw": {"id": pid, "text": text},
    }
    fields.update(kw)
    return IncomingPost(**fields)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    # PBKDF2's deliberate slowness costs seconds per test that creates the cast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
