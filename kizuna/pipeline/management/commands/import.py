"""kizuna import FILE: recorded or exported posts (JSONL) through the pipeline."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kizuna.brands.management.commands.config import pick_workspace
from kizuna.core.posts import PayloadError, decode_jsonl_line, parse_jsonl_post
from kizuna.pipeline.ingest import ingest, quarantine
from kizuna.sources.models import Platform, Source


class Command(BaseCommand):
    help = "Import posts from a JSONL file (one post per line). Re-importing adds nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSONL file, or - for standard input")
        parser.add_argument("--format", choices=["jsonl"], default="jsonl")
        parser.add_argument("--workspace", help="workspace slug (default: the only workspace)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        ws = pick_workspace(opts["workspace"])
        name = opts["file"]
        if name == "-":
            lines = sys.stdin.buffer.read().splitlines()
        else:
            try:
                lines = Path(name).read_bytes().splitlines()
            except OSError as exc:
                raise CommandError(f"{name}: cannot read: {exc.strerror}") from exc
        source, _ = Source.objects.get_or_create(
            workspace=ws, platform=Platform.IMPORT, name="Import", defaults={"enabled": False}
        )
        counts: Counter[str] = Counter()
        bad: list[str] = []
        show = not opts["no_progress"] and opts.get("verbosity", 1) != 0
        for number, line in enumerate(tqdm(lines, desc="import", unit="post", disable=not show, file=sys.stderr), 1):
            if not line.strip():
                continue
            origin = f"import {Path(name).name} line {number}"
            try:
                incoming = parse_jsonl_post(decode_jsonl_line(line))
            except PayloadError as exc:
                text = line.decode("utf-8", "replace")
                quarantine(ws, origin=origin, reason=str(exc), payload=text, source=source)
                counts["quarantined"] += 1
                bad.append(f"line {number}: {exc}")
                continue
            try:
                result = ingest(ws, incoming, source=source)
            except Exception as exc:  # a poison post is quarantined, the import goes on
                quarantine(
                    ws,
                    origin=origin,
                    reason=f"pipeline error: {type(exc).__name__}: {exc}",
                    payload=line.decode("utf-8", "replace"),
                    source=source,
                )
                counts["quarantined"] += 1
                bad.append(f"line {number}: pipeline error: {exc}")
                continue
            counts[result.outcome] += 1
            if result.case_id:
                counts["cases"] += 1
        for message in bad:
            self.stderr.write(message)
        self.stdout.write(
            f"{counts['new']} new, {counts['duplicate']} duplicate, {counts['quarantined']} quarantined"
            f" ({counts['cases']} in cases)"
        )
