"""kizuna config load FILE | kizuna config dump: configuration as code."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kizuna.accounts.models import Workspace
from kizuna.brands.config import do_load_config, dump_config
from kizuna.core.config import ConfigError, load_config_file


def pick_workspace(slug: str | None) -> Workspace:
    """Return the named workspace, or the only one when there is exactly one."""
    if slug:
        ws = Workspace.objects.filter(slug=slug).first()
        if ws is None:
            raise CommandError(
                f'no workspace "{slug}" (known: {", ".join(Workspace.objects.values_list("slug", flat=True)) or "none"})'
            )
        return ws
    workspaces = list(Workspace.objects.all()[:2])
    if len(workspaces) != 1:
        raise CommandError(
            "name the workspace with --workspace SLUG"
            if workspaces
            else "no workspace yet: run `kizuna config load FILE` first"
        )
    return workspaces[0]


class Command(BaseCommand):
    help = "Load a workspace from kizuna.toml, or dump one to it."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="create or update a workspace from a kizuna.toml file")
        load.add_argument("file")
        load.add_argument("--workspace", help="workspace slug (default: [workspace] slug in the file)")
        dump = sub.add_parser("dump", help="print a workspace as kizuna.toml")
        dump.add_argument("--workspace", help="workspace slug (default: the only workspace)")
        dump.add_argument("-o", "--output", type=argparse.FileType("w", encoding="utf-8"), help="write to a file")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "load":
            try:
                cfg = load_config_file(opts["file"])
                ws = do_load_config(cfg, slug=opts["workspace"], path=opts["file"])
            except ConfigError as exc:
                raise CommandError(str(exc)) from exc
            self.stderr.write(
                f"loaded workspace {ws.slug}: {len(cfg.brands)} brands, {len(cfg.rules)} rules, "
                f"{len(cfg.departments)} departments, {len(cfg.routing)} routes"
            )
        else:
            text = dump_config(pick_workspace(opts["workspace"]))
            out = opts["output"] or self.stdout
            out.write(text, ending="") if out is self.stdout else out.write(text)
