"""kizuna demo: set up the sample workspace and serve it with the demo source streaming."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from kizuna.accounts.actions import do_create_user
from kizuna.accounts.models import Role
from kizuna.brands.config import do_load_config
from kizuna.core.config import load_config_file
from kizuna.pipeline.runner import ingest_safely
from kizuna.sources.demo.library import CORPUS_DIR
from kizuna.sources.demo.stream import DemoStream
from kizuna.sources.models import Platform, Post, Source

DEMO_CONFIG = CORPUS_DIR.parent / "workspace.toml"
# The demo logins the README names. Only for the demo workspace on 127.0.0.1.
DEMO_USERS = [
    ("demo", "kizuna-demo", Role.SUPERVISOR, "鈴木"),
    ("trainee", "kizuna-demo", Role.TRAINEE, "田中"),
    ("admin", "kizuna-admin", Role.ADMIN, "管理者"),
]


def setup_demo(*, backlog: int = 40) -> Source:
    """Create (or refresh) the demo workspace, its users and source; fill an empty desk."""
    ws = do_load_config(load_config_file(DEMO_CONFIG), path=str(DEMO_CONFIG))
    for username, password, role, name in DEMO_USERS:
        do_create_user(username=username, password=password, workspace=ws, role=role, display_name=name)
    source, _ = Source.objects.get_or_create(
        workspace=ws, platform=Platform.DEMO, defaults={"name": "デモ配信", "handle": "hidamari_support"}
    )
    if backlog and not Post.objects.filter(workspace=ws).exists():
        stream = DemoStream(source, seed=7)
        for incoming in stream.backlog(backlog):
            ingest_safely(source, incoming, f"demo backlog {incoming.platform_post_id}")
        for incoming in stream.poll():  # self-replies of the backlog
            if incoming.created_at:
                ingest_safely(source, incoming, f"demo backlog {incoming.platform_post_id}")
    return source


class Command(BaseCommand):
    help = "Set up the demo workspace and serve it at http://127.0.0.1:8000 with posts streaming in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--rate", type=float, default=2.0, help="demo posts per minute (default 2)")
        parser.add_argument("--setup-only", action="store_true", help="set up, do not serve")

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("migrate", verbosity=0)
        setup_demo()
        self.stderr.write("Demo workspace ready. Log in as demo / kizuna-demo (supervisor 鈴木).")
        if not opts["setup_only"]:
            call_command("serve", port=opts["port"], demo_rate=opts["rate"])
