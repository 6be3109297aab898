"""The embedded runner: sources and pipeline in a background thread of the web process."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections

from kizuna.core.posts import IncomingPost
from kizuna.pipeline.ingest import IngestResult, ingest, quarantine
from kizuna.sources.demo.stream import DemoStream
from kizuna.sources.models import Platform, Source

log = logging.getLogger("kizuna.runner")


def ingest_safely(source: Source, incoming: IncomingPost, origin: str) -> IngestResult:
    """Ingest one post; any failure quarantines it with the reason instead of stopping the source."""
    try:
        return ingest(source.workspace, incoming, source=source)
    except Exception as exc:  # a poison post must not stop the stream
        log.exception("pipeline failed on %s", origin)
        import json

        payload = json.dumps(incoming.raw, ensure_ascii=False, default=str)
        return quarantine(
            source.workspace,
            origin=origin,
            reason=f"pipeline error: {type(exc).__name__}: {exc}",
            payload=payload,
            source=source,
        )


class EmbeddedRunner(threading.Thread):
    """Polls every enabled source of the embedded shape and feeds the pipeline, until stopped."""

    def __init__(self, *, demo_rate: float = 6.0, tick: float = 0.5) -> None:
        super().__init__(name="kizuna-runner", daemon=True)
        self.demo_rate = demo_rate
        self.tick = tick
        self.stopping = threading.Event()
        self._streams: dict[int, DemoStream] = {}

    def stop(self) -> None:
        self.stopping.set()

    def run_once(self) -> int:
        """Poll each source once and advance a backfill by one batch; return how many posts went through."""
        from kizuna.brands.backfill import next_backfill_job, process_backfill_batch

        job = next_backfill_job()
        if job is not None:
            try:
                process_backfill_batch(job)
            except Exception as exc:  # a failed backfill is shown to the admin, collection goes on
                log.exception("backfill %s failed", job.pk)
                job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
                job.save(update_fields=["status", "error"])
        from kizuna.replies.outbox import process_one_reply

        for _ in range(10):  # a few replies per tick; collection must not starve
            if not process_one_reply():
                break
        count = 0
        for source in Source.objects.filter(enabled=True, platform=Platform.DEMO).select_related("workspace"):
            stream = self._streams.get(source.pk)
            if stream is None:
                stream = self._streams[source.pk] = DemoStream(source, self.demo_rate)
            for incoming in stream.poll():
                ingest_safely(source, incoming, f"{source.name} (demo) post {incoming.platform_post_id}")
                count += 1
        return count

    def run(self) -> None:
        log.info("embedded runner started (demo rate %.1f posts/min)", self.demo_rate)
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("runner tick failed; retrying")
            finally:
                close_old_connections()
            self.stopping.wait(self.tick)
        log.info("embedded runner stopped")
