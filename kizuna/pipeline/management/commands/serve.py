"""kizuna serve: web server, sources and pipeline in one process (the embedded shape)."""

from __future__ import annotations

from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandParser

from kizuna.pipeline.runner import EmbeddedRunner


class Command(BaseCommand):
    help = "Serve the desk: web UI, live inbox, sources and pipeline in one process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--demo-rate", type=float, default=2.0, help="demo posts per minute (0 stops the stream)")
        parser.add_argument("--no-runner", action="store_true", help="web only; run sources and pipeline elsewhere")

    def handle(self, *args: Any, **opts: Any) -> None:
        runner = None
        if not opts["no_runner"]:
            runner = EmbeddedRunner(demo_rate=opts["demo_rate"])
            runner.start()
        self.stderr.write(f"Kizuna is serving at http://{opts['host']}:{opts['port']}/  (Ctrl+C stops)")
        config = uvicorn.Config(
            "kizuna.asgi:application",
            host=opts["host"],
            port=opts["port"],
            lifespan="off",
            log_level="warning",
            # Open SSE streams would otherwise hold shutdown forever.
            timeout_graceful_shutdown=2,
        )
        try:
            uvicorn.Server(config).run()
        finally:
            if runner is not None:
                runner.stop()
                runner.join(timeout=5)
