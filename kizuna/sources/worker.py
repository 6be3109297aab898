"""Collecting from a real source: one poll is the unit of work, with health kept on the Source.

`SourceWorker` is a thread of the embedded runner (scaled out, a management command runs the
same loop per source). A poll ingests what came, quarantines what could not be read, stores
the collector's state and quotas, and says how long to wait; errors are recorded with their
time and retried with backoff, refused credentials disable the source until an admin acts.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from kizuna.brands.models import Rule
from kizuna.core.matcher import MatchInput
from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.core.rules import RuleSyntaxError, parse_rule, positive_terms
from kizuna.pipeline.ingest import quarantine, workspace_matcher
from kizuna.sources.base import AuthFailed, ConnectorError, RateLimited
from kizuna.sources.models import Platform, Source
from kizuna.sources.registry import Connection, connect

log = logging.getLogger("kizuna.sources")
COLLECTING = (Platform.X, Platform.BLUESKY, Platform.MASTODON, Platform.RSS)
MAX_ERRORS_KEPT = 20
MAX_BACKOFF = 15 * 60


def x_queries(source: Source) -> dict[str, str]:
    """Translate the workspace's rules to X search queries where they translate (the matcher re-checks)."""
    from kizuna.sources.x.rules import to_x_rule

    queries = {}
    for rule in Rule.objects.filter(workspace_id=source.workspace_id, enabled=True):
        try:
            translated = to_x_rule(parse_rule(rule.key, rule.query))
        except RuleSyntaxError:
            continue
        if translated:
            queries[rule.key] = translated
    return queries


def sync_x_stream_rules(source: Source) -> None:
    """Make the X filtered stream's rules our translated rules; rules that do not translate are noted."""
    from kizuna.sources import registry
    from kizuna.sources.x.connector import XApi
    from kizuna.sources.x.rules import sync_stream_rules

    token = source.get_credentials().get("bearer_token")
    if not token:
        return
    sync = sync_stream_rules(XApi(registry.http_client(), token), source.settings.get("queries", {}))
    if sync.errors:
        record_error(source, "X refused stream rules: " + "; ".join(f"{k}: {v}" for k, v in sync.errors.items()))
    log.info("X stream rules for %s: +%d -%d =%d", source.name, len(sync.added), len(sync.deleted), len(sync.unchanged))


def search_queries(source: Source) -> dict[str, str]:
    """A plain full-text query per rule (its positive terms), for platforms without a rule syntax."""
    queries = {}
    for rule in Rule.objects.filter(workspace_id=source.workspace_id, enabled=True):
        try:
            words = [term.raw.strip('"') for term in positive_terms(parse_rule(rule.key, rule.query))]
        except RuleSyntaxError:
            continue
        if words:
            queries[rule.key] = words[0]
    return queries


def connection_for_collecting(source: Source) -> Connection:
    """Build the source's connection with what collection needs (queries, an early matcher)."""
    if source.platform == Platform.X:
        source.settings = {**source.settings, "queries": x_queries(source)}
        if source.settings.get("mode") == "stream":
            sync_x_stream_rules(source)
    elif source.platform == Platform.MASTODON and source.settings.get("stream") == "search":
        source.settings = {**source.settings, "queries": search_queries(source)}

    def wanted(post: IncomingPost) -> bool:
        compiled = workspace_matcher(source.workspace)
        return bool(
            compiled.matcher.match(
                MatchInput(post.text, post.lang or None, post.author_handle, post.is_repost, bool(post.in_reply_to))
            )
        )

    return connect(source, match=wanted)


def record_error(source: Source, message: str, *, disable: bool = False) -> None:
    now = timezone.now()
    errors = [{"at": now.isoformat(), "message": message[:500]}, *source.errors][:MAX_ERRORS_KEPT]
    Source.objects.filter(pk=source.pk).update(
        last_error=message[:2000],
        last_error_at=now,
        errors=errors,
        connected=False,
        **({"enabled": False} if disable else {}),
    )
    source.errors, source.last_error, source.last_error_at = errors, message, now


def poll_source(source: Source, connection: Connection, *, failures: int = 0) -> float:
    """Collect once from a source and run what came through the pipeline; return seconds to wait."""
    from kizuna.pipeline.runner import ingest_safely

    collector = connection.collector
    if collector is None:
        record_error(source, "nothing to collect with: credentials or settings are missing", disable=True)
        return MAX_BACKOFF
    now = timezone.now()
    try:
        result = collector.collect(dict(source.state))
    except RateLimited as exc:
        record_error(source, f"rate limited until {exc.reset_at:%H:%M:%S}: {exc}")
        wait = max(1.0, (exc.reset_at - now).total_seconds())
        Source.objects.filter(pk=source.pk).update(next_poll_at=now + timedelta(seconds=wait))
        return wait
    except AuthFailed as exc:
        record_error(source, f"credentials refused, source disabled: {exc}", disable=True)
        return MAX_BACKOFF
    except ConnectorError as exc:
        record_error(source, str(exc))
        return min(MAX_BACKOFF, 5 * 2 ** min(failures, 8)) * random.uniform(0.8, 1.2)
    finally:
        connection.save_secrets(source)
    bad = iter(result.bad_payloads)
    for item in result.items:
        if isinstance(item, PayloadError):
            payload = next(bad, "")
            quarantine(
                source.workspace,
                origin=f"{source.name} ({source.platform})",
                reason=str(item),
                payload=payload,
                source=source,
            )
        else:
            ingest_safely(source, item, f"{source.name} ({source.platform}) post {item.platform_post_id}")
    wait = max(result.wait_seconds, 1.0)
    Source.objects.filter(pk=source.pk).update(
        state=result.state,
        quotas=[_quota(q) for q in result.quotas],
        connected=True,
        last_poll_at=now,
        next_poll_at=now + timedelta(seconds=wait),
    )
    source.state = result.state
    return wait


def _quota(quota: Any) -> dict[str, Any]:
    data = asdict(quota)
    if data.get("resets_at"):
        data["resets_at"] = data["resets_at"].isoformat()
    return data


class SourceWorker(threading.Thread):
    """Polls one source until stopped, rebuilding its connection when its settings or rules change."""

    def __init__(self, source_id: int, stopping: threading.Event) -> None:
        super().__init__(name=f"kizuna-source-{source_id}", daemon=True)
        self.source_id = source_id
        self.stopping = stopping

    def run(self) -> None:
        connection: Connection | None = None
        signature: tuple[Any, ...] | None = None
        failures = 0
        while not self.stopping.is_set():
            wait = 5.0
            try:
                source = Source.objects.select_related("workspace").get(pk=self.source_id)
                if not source.enabled:
                    return
                rules = Rule.objects.filter(workspace_id=source.workspace_id).order_by("-updated_at")
                now_signature = (
                    source.settings,
                    source.credentials_encrypted[:32],
                    rules.values_list("updated_at").first(),
                )
                if connection is None or now_signature != signature:
                    connection, signature = connection_for_collecting(source), now_signature
                before = source.last_error_at
                wait = poll_source(source, connection, failures=failures)
                failures = failures + 1 if source.last_error_at != before else 0
            except Source.DoesNotExist:
                return
            except ConnectorError as exc:  # building the connection failed: settings are wrong
                record_error(source, str(exc), disable=not exc.retryable)
                wait = MAX_BACKOFF
            except Exception:
                log.exception("source %s: poll failed", self.source_id)
                failures += 1
                wait = min(MAX_BACKOFF, 5 * 2 ** min(failures, 8))
            finally:
                close_old_connections()
            self.stopping.wait(wait)
