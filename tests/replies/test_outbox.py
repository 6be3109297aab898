from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from kizuna.inbox.models import AuditEvent
from kizuna.replies.actions import do_retry_reply, do_write_reply
from kizuna.replies.models import Reply, ReplyStatus
from kizuna.replies.outbox import LEASE, MAX_ATTEMPTS, process_one_reply
from kizuna.sources.base import ConnectorError, RateLimited
from kizuna.sources.models import Source
from tests.conftest import Cast
from tests.replies.conftest import SIGNED, FakePlatform, open_case


@pytest.fixture
def queued(cast: Cast, x_source: Source, platform: FakePlatform) -> Reply:
    case = open_case(cast, "ひだまりアプリにログインできない", source=x_source, platform="x")
    reply = do_write_reply(cast.member(cast.alice), case, text=SIGNED)
    assert reply.status == ReplyStatus.QUEUED
    return reply


def test_it_publishes_a_queued_reply_once(queued: Reply, platform: FakePlatform) -> None:
    assert process_one_reply() is True
    assert process_one_reply() is False
    queued.refresh_from_db()
    assert queued.status == ReplyStatus.SENT and queued.platform_post_id == "x-1"
    assert platform.posted == [(SIGNED, queued.in_reply_to.platform_post_id, str(queued.idempotency_key))]
    assert AuditEvent.objects.filter(verb="reply.sent", data__reply_id=queued.pk).exists()


def test_it_never_posts_twice_after_a_crash_between_platform_and_database(
    queued: Reply, platform: FakePlatform
) -> None:
    platform.crash_after_post = True
    with pytest.raises(SystemExit):
        process_one_reply()
    queued.refresh_from_db()
    assert queued.status == ReplyStatus.SENDING and len(platform.posted) == 1
    assert process_one_reply() is False  # the lease has not expired: nobody else takes it
    Reply.objects.filter(pk=queued.pk).update(claimed_at=timezone.now() - LEASE - timedelta(seconds=1))
    assert process_one_reply() is True
    queued.refresh_from_db()
    assert queued.status == ReplyStatus.SENT and len(platform.posted) == 1
    assert AuditEvent.objects.get(verb="reply.sent").data["reconciled"] is True


def test_it_waits_for_the_rate_limit_window(queued: Reply, platform: FakePlatform) -> None:
    reset = datetime(2030, 1, 1, tzinfo=UTC)
    platform.fail_with = RateLimited("429 Too Many Requests", reset_at=reset)
    process_one_reply()
    queued.refresh_from_db()
    assert queued.status == ReplyStatus.QUEUED and queued.next_attempt_at == reset
    assert "rate limited" in queued.error
    platform.fail_with = None
    assert process_one_reply() is False  # not due yet


def test_it_gives_up_after_repeated_failures_and_can_be_retried(
    cast: Cast, queued: Reply, platform: FakePlatform
) -> None:
    platform.fail_with = ConnectorError("503 from the platform")
    for _ in range(MAX_ATTEMPTS):
        Reply.objects.filter(pk=queued.pk).update(next_attempt_at=None)
        process_one_reply()
    queued.refresh_from_db()
    assert queued.status == ReplyStatus.FAILED and "503" in queued.error
    platform.fail_with = None
    do_retry_reply(cast.member(cast.alice), queued)
    process_one_reply()
    queued.refresh_from_db()
    assert queued.status == ReplyStatus.SENT


def test_it_fails_at_once_when_credentials_are_refused(queued: Reply, platform: FakePlatform) -> None:
    platform.fail_with = ConnectorError("401 Unauthorized", retryable=False)
    process_one_reply()
    queued.refresh_from_db()
    assert queued.status == ReplyStatus.FAILED and queued.attempts == 1
