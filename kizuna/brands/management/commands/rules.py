"""kizuna rules backfill RULE_ID | kizuna rules list."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kizuna.brands.backfill import do_start_backfill, process_backfill_batch
from kizuna.brands.management.commands.config import pick_workspace
from kizuna.brands.models import Rule


class Command(BaseCommand):
    help = "Work with keyword rules: list them, or apply one to stored posts (backfill)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        backfill = sub.add_parser("backfill", help="apply a rule to the stored posts of the last days")
        backfill.add_argument("rule_id")
        backfill.add_argument("--days", type=int, default=7, help="how far back (default 7)")
        backfill.add_argument("--workspace", help="workspace slug (default: the only workspace)")
        backfill.add_argument("--no-progress", action="store_true")
        listing = sub.add_parser("list", help="list the rules")
        listing.add_argument("--workspace")

    def handle(self, *args: Any, **opts: Any) -> None:
        ws = pick_workspace(opts["workspace"])
        if opts["action"] == "list":
            for each in Rule.objects.filter(workspace=ws).select_related("brand"):
                state = "" if each.enabled else " (disabled)"
                self.stdout.write(f"{each.key}\t{each.brand.key if each.brand else '-'}\t{each.query}{state}")
            return
        rule = Rule.objects.filter(workspace=ws, key=opts["rule_id"]).first()
        if rule is None:
            known = ", ".join(Rule.objects.filter(workspace=ws).values_list("key", flat=True))
            raise CommandError(f'no rule "{opts["rule_id"]}" in {ws.slug} (rules: {known or "none"})')
        if opts["days"] < 1:
            raise CommandError("--days must be at least 1")
        job = do_start_backfill(rule, days=opts["days"])
        with tqdm(
            total=job.total, desc=f"backfill {rule.key}", unit="post", file=sys.stderr, disable=opts["no_progress"]
        ) as bar:
            more = True
            while more:
                before = job.processed
                more = process_backfill_batch(job)
                bar.update(job.processed - before)
        self.stdout.write(
            f"{job.processed} posts checked, {job.matched} newly matched, {job.cases_opened} cases opened"
        )
