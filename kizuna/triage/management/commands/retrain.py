"""kizuna triage retrain: train the workspace's model on the corpus plus its team's decisions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kizuna.brands.management.commands.config import pick_workspace
from kizuna.triage.service import do_retrain


class Command(BaseCommand):
    help = "Retrain triage for a workspace from the corpus and the operators' decisions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="workspace slug (default: the only workspace)")

    def handle(self, *args: Any, **opts: Any) -> None:
        ws = pick_workspace(opts["workspace"])
        version = do_retrain(ws)
        figures = version.metrics.get("heldout", {}).get("headline", {})
        shown = ", ".join(f"{k} {v:.3f}" for k, v in figures.items())
        state = "in use" if version.active else "kept, not used (measures worse than the model in use)"
        self.stdout.write(
            f"{version.version}: {version.training_rows} corpus rows + {version.feedback_rows} decisions; "
            f"held-out {shown}; {state}"
        )
