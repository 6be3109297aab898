"""The outbox: publish each queued reply exactly once.

The unit of work is one reply (`process_one_reply` returns whether it did something). A reply
is claimed with a conditional UPDATE (QUEUED → SENDING); only the worker whose UPDATE changed
exactly one row sends it. A crash between the platform call and our commit leaves the reply
SENDING: once its lease expires, the next attempt first asks the platform whether our reply
is already there (`find_published`, or the platform's own idempotency key) and only posts
when it is not, so a crash can never produce a second public reply.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from kizuna.inbox.audit import record_event
from kizuna.replies.models import Reply, ReplyStatus
from kizuna.replies.publishers import connection_for
from kizuna.sources.base import ConnectorError, Published, RateLimited, ReplyTarget

log = logging.getLogger("kizuna.outbox")

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5


def _claim() -> Reply | None:
    now = timezone.now()
    due = Q(status=ReplyStatus.QUEUED) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    stale = Q(status=ReplyStatus.SENDING, claimed_at__lt=now - LEASE)
    for reply in Reply.objects.filter(due | stale).order_by("created_at")[:10]:
        claimed = Reply.objects.filter(pk=reply.pk, status=reply.status, claimed_at=reply.claimed_at).update(
            status=ReplyStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        if claimed == 1:
            return Reply.objects.select_related("in_reply_to__source", "in_reply_to__author", "case__workspace").get(
                pk=reply.pk
            )
    return None


def process_one_reply() -> bool:
    """Publish one due reply; return False when there was nothing to do."""
    reply = _claim()
    if reply is None:
        return False
    target_post = reply.in_reply_to
    connection = connection_for(target_post.source)
    publisher = connection.publisher if connection else None
    if connection is None or publisher is None:
        _finish(reply, status=ReplyStatus.FAILED, error="the source has no credentials any more; retry to dry-run it")
        return True
    target = ReplyTarget(
        platform_post_id=target_post.platform_post_id,
        author_handle=target_post.author.handle,
        thread_id=target_post.thread_id,
        raw=target_post.raw,
    )
    key = str(reply.idempotency_key)
    try:
        found = (
            publisher.find_published(text=reply.text, target=target, idempotency_key=key)
            if reply.attempts > 1
            else None
        )
        published = found or publisher.publish(text=reply.text, target=target, idempotency_key=key)
    except RateLimited as exc:
        _requeue(reply, at=exc.reset_at, error=f"rate limited until {exc.reset_at:%H:%M:%S}: {exc}")
        return True
    except ConnectorError as exc:
        if exc.retryable and reply.attempts < MAX_ATTEMPTS:
            backoff = timedelta(seconds=30 * 2 ** (reply.attempts - 1))
            _requeue(reply, at=timezone.now() + backoff, error=str(exc))
        else:
            _finish(reply, status=ReplyStatus.FAILED, error=str(exc))
        return True
    except Exception as exc:  # a bug in a publisher must not wedge the outbox; reconcile covers a send
        log.exception("publishing reply %s failed", reply.pk)
        if reply.attempts < MAX_ATTEMPTS:
            _requeue(reply, at=timezone.now() + timedelta(seconds=60), error=f"{type(exc).__name__}: {exc}")
        else:
            _finish(reply, status=ReplyStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        return True
    finally:
        # Tokens or sessions may have been renewed during the call, whatever its outcome.
        connection.save_secrets(connection.source)
    _mark_sent(reply, published, reconciled=found is not None)
    return True


def _requeue(reply: Reply, *, at: object, error: str) -> None:
    Reply.objects.filter(pk=reply.pk, status=ReplyStatus.SENDING).update(
        status=ReplyStatus.QUEUED, next_attempt_at=at, claimed_at=None, error=error
    )
    record_event(reply.workspace, "reply.retry_scheduled", case=reply.case, reply_id=reply.pk, error=error)


def _finish(reply: Reply, *, status: str, error: str) -> None:
    Reply.objects.filter(pk=reply.pk).update(status=status, error=error, claimed_at=None)
    record_event(reply.workspace, "reply.failed", case=reply.case, reply_id=reply.pk, error=error)
    log.warning("reply %s failed: %s", reply.pk, error)


@transaction.atomic
def _mark_sent(reply: Reply, published: Published, *, reconciled: bool) -> None:
    Reply.objects.filter(pk=reply.pk).update(
        status=ReplyStatus.SENT,
        platform_post_id=published.platform_post_id,
        platform_url=published.url,
        sent_at=timezone.now(),
        error="",
        claimed_at=None,
    )
    record_event(
        reply.workspace,
        "reply.sent",
        case=reply.case,
        reply_id=reply.pk,
        platform_post_id=published.platform_post_id,
        reconciled=reconciled,
    )
