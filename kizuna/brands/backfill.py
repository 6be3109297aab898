"""Backfill: apply a new or changed rule to posts already stored.

The unit of work is one batch (`process_backfill_batch` returns whether more is left), so
the embedded runner interleaves it with live collection and the CLI loops it with a bar.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kizuna.brands.models import BackfillJob, BackfillStatus, Rule
from kizuna.core.matcher import MatchInput, compile_rules
from kizuna.core.rules import RuleSpec
from kizuna.pipeline.ingest import open_case, own_accounts_of, record_exclusion
from kizuna.sources.models import Post

BATCH = 500


def do_start_backfill(rule: Rule, *, days: int = 7, user_id: int | None = None) -> BackfillJob:
    """Queue a backfill of `rule` over the stored posts of the last `days` days."""
    since = timezone.now() - timedelta(days=days)
    total = Post.objects.filter(workspace_id=rule.workspace_id, created_at__gte=since, is_ours=False).count()
    return BackfillJob.objects.create(
        workspace_id=rule.workspace_id, rule=rule, days=days, total=total, created_by_id=user_id
    )


def process_backfill_batch(job: BackfillJob, batch: int = BATCH) -> bool:
    """Process the next batch of a job; return True while posts remain."""
    if job.status in (BackfillStatus.DONE, BackfillStatus.FAILED):
        return False
    rule = job.rule
    matcher = compile_rules([RuleSpec(rule.key, rule.query, None)])
    since = job.created_at - timedelta(days=job.days)
    posts = list(
        Post.objects.filter(workspace_id=job.workspace_id, created_at__gte=since, is_ours=False, id__gt=job.cursor)
        .select_related("author", "workspace")
        .order_by("id")[:batch]
    )
    hits = matcher.match_many(
        [MatchInput(p.text, p.lang or None, p.author.handle, p.is_repost, bool(p.in_reply_to)) for p in posts]
    )
    with transaction.atomic():
        for post, matched in zip(posts, hits, strict=True):
            if not matched or rule.key in post.matched_rules:
                continue
            job.matched += 1
            post.matched_rules = sorted({*post.matched_rules, rule.key})
            post.save(update_fields=["matched_rules"])
            if (
                post.case_id is None
                and not post.exclusion
                and record_exclusion(post.workspace, post, own_accounts_of(post.workspace, None)) is None
            ):
                open_case(post.workspace, post, post.matched_rules, via=f"backfill:{rule.key}")
                job.cases_opened += 1
        job.processed += len(posts)
        job.cursor = posts[-1].id if posts else job.cursor
        more = len(posts) == batch
        job.status = BackfillStatus.RUNNING if more else BackfillStatus.DONE
        if not more:
            job.processed = max(job.processed, job.total)
            job.finished_at = timezone.now()
        job.save()
    return more


def next_backfill_job() -> BackfillJob | None:
    """Return the oldest unfinished job, if any."""
    return (
        BackfillJob.objects.filter(status__in=[BackfillStatus.QUEUED, BackfillStatus.RUNNING])
        .select_related("rule")
        .order_by("created_at")
        .first()
    )
