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

    def __init__(self, *, demo_rate: float = 2.0, tick: float = 0.5) -> None:
        super().__init__(name="kizuna-runner", daemon=True)
        self.demo_rate = demo_rate
        self.tick = tick
        self.stopping = threading.Event()
        self._streams: dict[int, DemoStream] = {}
        self._next_watch = 0.0
        self._workers: dict[int, threading.Thread] = {}
        self._training: threading.Thread | None = None

    def watch(self) -> None:
        """Once a minute: the crisis watch; and retrain triage where enough new decisions came in."""
        import time

        from kizuna.accounts.models import Workspace
        from kizuna.triage.crisis import check_workspace
        from kizuna.triage.service import do_retrain, retrain_due

        if time.monotonic() < self._next_watch:
            return
        self._next_watch = time.monotonic() + 60
        for workspace in Workspace.objects.all():
            check_workspace(workspace)
            if (self._training is None or not self._training.is_alive()) and retrain_due(workspace):
                # Training takes seconds to minutes: off the collection thread.
                def train(ws: Workspace = workspace) -> None:
                    try:
                        do_retrain(ws)
                    except Exception:
                        log.exception("scheduled retraining of %s failed", ws.slug)
                    finally:
                        close_old_connections()

                self._training = threading.Thread(target=train, name="kizuna-retrain", daemon=True)
                self._training.start()

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
        self._start_source_workers()
        count = 0
        for source in Source.objects.filter(enabled=True, platform=Platform.DEMO).select_related("workspace"):
            stream = self._streams.get(source.pk)
            if stream is None:
                stream = self._streams[source.pk] = DemoStream(source, self.demo_rate)
            for incoming in stream.poll():
                ingest_safely(source, incoming, f"{source.name} (demo) post {incoming.platform_post_id}")
                count += 1
        return count

    def _start_source_workers(self) -> None:
        """One thread per enabled real source (streams hold a connection; polls must not wait on each other)."""
        from kizuna.sources.worker import COLLECTING, SourceWorker

        for source_id in Source.objects.filter(enabled=True, platform__in=COLLECTING).values_list("id", flat=True):
            worker = self._workers.get(source_id)
            if worker is None or not worker.is_alive():
                self._workers[source_id] = SourceWorker(source_id, self.stopping)
                self._workers[source_id].start()

    def run(self) -> None:
        log.info("embedded runner started (demo rate %.1f posts/min)", self.demo_rate)
        while not self.stopping.is_set():
            try:
                self.run_once()
                self.watch()
            except Exception:
                log.exception("runner tick failed; retrying")
            finally:
                close_old_connections()
            self.stopping.wait(self.tick)
        log.info("embedded runner stopped")
