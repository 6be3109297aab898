from __future__ import annotations

import time
import unicodedata
from collections import Counter

import pytest

from kizuna.inbox.models import Case, CaseStatus
from kizuna.pipeline.runner import EmbeddedRunner
from kizuna.replies.actions import do_write_reply
from kizuna.replies.approval import approval_reasons
from kizuna.sources.demo.library import demo_followups, demo_posts
from kizuna.sources.demo.stream import DemoStream
from kizuna.sources.models import Post
from tests.conftest import Cast

INTENTS = {"praise", "question", "defect", "staff", "urgent", "delivery", "request", "complaint", "mention", "noise"}


def test_it_has_at_least_400_distinct_texts_across_every_intent() -> None:
    posts = demo_posts()
    texts = {unicodedata.normalize("NFKC", p.text).strip() for p in posts}
    assert len(texts) >= 400
    assert set(Counter(p.intent for p in posts)) == INTENTS
    assert {p.brand for p in posts} == {"sakutto", "hidamari", None}


def test_it_writes_like_people_do() -> None:
    texts = [p.text for p in demo_posts()]
    halfwidth_kana = [t for t in texts if any("\uff66" <= ch <= "\uff9f" for ch in t)]
    emoji = [t for t in texts if any(ord(ch) >= 0x1F300 for ch in t)]
    assert len(halfwidth_kana) >= 5 and len(emoji) >= 10
    assert len(demo_followups()) >= 100


def test_it_streams_a_backlog_through_the_pipeline(cast: Cast) -> None:
    runner = EmbeddedRunner(demo_rate=0)
    stream = DemoStream(cast.source, posts_per_minute=0, seed=1)
    from kizuna.pipeline.runner import ingest_safely

    for incoming in stream.backlog(60):
        ingest_safely(cast.source, incoming, "test")
    assert Post.objects.count() == 60
    assert Case.objects.count() >= 30
    assert runner.run_once() == 0  # rate 0: nothing new without a reply


@pytest.mark.django_db
def test_it_answers_our_reply_in_the_same_thread(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = DemoStream(cast.source, posts_per_minute=0, seed=3)
    from kizuna.pipeline.runner import ingest_safely

    for incoming in [*stream.backlog(20), *stream.poll()]:  # the poll drains the backlog's self-replies
        ingest_safely(cast.source, incoming, "test")
    # A case whose reply goes straight out (a held one is echoed once a supervisor approves it).
    alice = cast.member(cast.alice)
    case = next(c for c in Case.objects.exclude(intent="noise").order_by("pk") if not approval_reasons(alice, c))
    do_write_reply(alice, case, text="ご連絡ありがとうございます。担当の鈴木です。")
    stream._rng.random = lambda: 0.0  # type: ignore[method-assign]  # the customer always answers
    echoed = stream.poll()
    assert [p.author_handle for p in echoed] == ["hidamari_support"]
    for incoming in echoed:
        ingest_safely(cast.source, incoming, "test")
    real_monotonic = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real_monotonic() + 120)
    for incoming in stream.poll():
        ingest_safely(cast.source, incoming, "test")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.assignee == cast.alice
    assert case.posts.filter(is_ours=True).count() == 1
    assert case.posts.filter(is_ours=False).count() >= 2
