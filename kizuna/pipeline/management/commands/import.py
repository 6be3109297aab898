"""kizuna import FILE: recorded or exported posts (JSONL) through the pipeline."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kizuna.brands.management.commands.config import pick_workspace
from kizuna.core.posts import PayloadError
from kizuna.pipeline.formats import FORMATS, read_items
from kizuna.pipeline.ingest import ingest, quarantine
from kizuna.sources.models import Platform, Source


class Command(BaseCommand):
    help = "Import recorded or exported posts through the pipeline. Re-importing adds nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the file, or - for standard input")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default="jsonl",
            help="jsonl (Kizuna's shape), x (API v2 responses), jetstream (events), mastodon (statuses or SSE), rss",
        )
        parser.add_argument("--workspace", help="workspace slug (default: the only workspace)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        ws = pick_workspace(opts["workspace"])
        name = opts["file"]
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            try:
                data = Path(name).read_bytes()
            except OSError as exc:
                raise CommandError(f"{name}: cannot read: {exc.strerror}") from exc
        platform = Platform.IMPORT
        source, _ = Source.objects.get_or_create(
            workspace=ws, platform=platform, name="Import", defaults={"enabled": False}
        )
        counts: Counter[str] = Counter()
        bad: list[str] = []
        items = list(read_items(opts["format"], data, name=Path(name).name))
        show = not opts["no_progress"] and opts.get("verbosity", 1) != 0
        for where, item, raw in tqdm(items, desc="import", unit="post", disable=not show, file=sys.stderr):
            origin = f"import {Path(name).name} {where}"
            if item is None:
                counts["skipped"] += 1
                continue
            if isinstance(item, PayloadError):
                quarantine(ws, origin=origin, reason=str(item), payload=raw, source=source)
                counts["quarantined"] += 1
                bad.append(f"{where}: {item}")
                continue
            try:
                result = ingest(ws, item, source=source)
            except Exception as exc:  # a poison post is quarantined, the import goes on
                quarantine(
                    ws, origin=origin, reason=f"pipeline error: {type(exc).__name__}: {exc}", payload=raw, source=source
                )
                counts["quarantined"] += 1
                bad.append(f"{where}: pipeline error: {exc}")
                continue
            counts[result.outcome] += 1
            if result.case_id:
                counts["cases"] += 1
        for message in bad:
            self.stderr.write(message)
        skipped = f", {counts['skipped']} not posts" if counts["skipped"] else ""
        self.stdout.write(
            f"{counts['new']} new, {counts['duplicate']} duplicate, {counts['quarantined']} quarantined{skipped}"
            f" ({counts['cases']} in cases)"
        )
