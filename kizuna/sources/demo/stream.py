"""The demo source: streams realistic posts about the sample brands at a configurable rate.

Authors return: some post twice in a row (a self-reply adding context), and anyone we answer
answers back in the thread a little later, so the desk shows whole conversations. Our replies
are echoed back as our own posts, as a real platform would show them.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from kizuna.core.posts import IncomingPost
from kizuna.replies.models import Reply, ReplyStatus
from kizuna.sources.demo.library import DemoPost, demo_followups, demo_posts
from kizuna.sources.models import Post, Source

_FAMILY = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "山口",
    "森",
]
_GIVEN = [
    "ゆうき",
    "はると",
    "みお",
    "さくら",
    "そうた",
    "ひな",
    "れん",
    "あおい",
    "ゆい",
    "こはる",
    "りく",
    "めい",
    "かいと",
    "ゆな",
]
_HANDLE_WORDS = [
    "mochi",
    "neko",
    "sora",
    "haru",
    "yuzu",
    "kuma",
    "tama",
    "momo",
    "riku",
    "hana",
    "kai",
    "nana",
    "pino",
    "coco",
    "ume",
    "toto",
]


def _authors(rng: random.Random, n: int) -> list[tuple[str, str, int]]:
    people = []
    for i in range(n):
        handle = f"{rng.choice(_HANDLE_WORDS)}_{rng.choice(_HANDLE_WORDS)}{rng.randint(1, 999)}"
        name = rng.choice(_GIVEN) if rng.random() < 0.5 else f"{rng.choice(_FAMILY)}{rng.choice(_GIVEN)}"
        # Reach is long-tailed: most have a few hundred followers, a few have tens of thousands.
        followers = int(rng.paretovariate(1.2) * 80) if i % 25 else rng.randint(20_000, 120_000)
        people.append((handle, name, followers))
    return people


@dataclass
class _Pending:
    due: float
    post: IncomingPost


@dataclass
class DemoStream:
    source: Source
    posts_per_minute: float = 6.0
    seed: int | None = None
    _rng: random.Random = field(init=False)
    _order: list[DemoPost] = field(init=False, default_factory=list)
    _pending: list[_Pending] = field(init=False, default_factory=list)
    _next_at: float = field(init=False, default=0.0)
    _answered: set[int] = field(init=False, default_factory=set)
    _counter: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._people = _authors(self._rng, 160)
        # A quarter of the people write most posts: the regulars a desk gets to know.
        self._regulars = self._people[:40]

    def _pick_author(self) -> tuple[str, str, int]:
        return self._rng.choice(self._regulars if self._rng.random() < 0.35 else self._people)

    def _next_entry(self) -> DemoPost:
        if not self._order:
            self._order = list(demo_posts())
            self._rng.shuffle(self._order)
        return self._order.pop()

    def _new_id(self) -> str:
        self._counter += 1
        return f"{int(time.time() * 1000)}{self._counter:04d}"

    def make_post(self, at: datetime) -> list[IncomingPost]:
        """Return one new post (and schedule its author's self-reply if the entry has one)."""
        entry = self._next_entry()
        handle, name, followers = self._pick_author()
        post_id = self._new_id()
        first = self._incoming(post_id, entry.text, handle, name, followers, at, entry=entry)
        if entry.next:
            follow_id = self._new_id()
            later = self._incoming(
                follow_id, entry.next, handle, name, followers, at, in_reply_to=post_id, thread_id=post_id
            )
            self._pending.append(_Pending(time.monotonic() + self._rng.uniform(20, 60), later))
        return [first]

    def _incoming(
        self,
        post_id: str,
        text: str,
        handle: str,
        name: str,
        followers: int,
        at: datetime,
        *,
        in_reply_to: str = "",
        thread_id: str = "",
        entry: DemoPost | None = None,
    ) -> IncomingPost:
        raw: dict[str, object] = {"id": post_id, "text": text, "author": handle, "created_at": at.isoformat()}
        if entry is not None:
            raw["demo_corpus_id"] = entry.id
        if in_reply_to:
            raw["in_reply_to"] = in_reply_to
        return IncomingPost(
            platform="demo",
            platform_post_id=post_id,
            text=text,
            author_handle=handle,
            author_display_name=name,
            author_followers=followers,
            created_at=at,
            url=f"https://demo.kizuna.invalid/{handle}/{post_id}",
            lang="en" if text.isascii() else "ja",
            in_reply_to=in_reply_to,
            thread_id=thread_id or post_id,
            raw=raw,
        )

    def backlog(self, count: int, *, hours: float = 6.0) -> list[IncomingPost]:
        """Return `count` posts spread over the past hours, oldest first, to fill a new desk."""
        now = timezone.now()
        stamps = sorted(now - timedelta(seconds=self._rng.uniform(60, hours * 3600)) for _ in range(count))
        out = []
        for at in stamps:
            out.extend(self.make_post(at))
        for p in self._pending:  # self-replies of the backlog are due at once
            p.due = 0
        return out

    def poll(self) -> list[IncomingPost]:
        """Return the posts due now: new ones at the configured rate, self-replies, answers to us."""
        now = time.monotonic()
        out: list[IncomingPost] = []
        if self.posts_per_minute > 0 and now >= self._next_at:
            out.extend(self.make_post(timezone.now()))
            # Poisson arrivals look like a real timeline: bursts and lulls.
            self._next_at = now + self._rng.expovariate(self.posts_per_minute / 60.0)
        due = [p for p in self._pending if p.due <= now]
        self._pending = [p for p in self._pending if p.due > now]
        out.extend(replace_time(p.post, timezone.now()) for p in due)
        out.extend(self._echo_our_replies())
        return out

    def _echo_our_replies(self) -> list[IncomingPost]:
        """Show our dry-run replies as posts of our account, and schedule the customer's answer."""
        replies = (
            Reply.objects.filter(in_reply_to__source=self.source, status__in=[ReplyStatus.DRY_RUN, ReplyStatus.SENT])
            .exclude(pk__in=self._answered)
            .select_related("in_reply_to__author", "case")
            .order_by("pk")[:20]
        )
        out = []
        for reply in replies:
            self._answered.add(reply.pk)
            echo_id = f"reply-{reply.pk}"
            if Post.objects.filter(
                workspace_id=self.source.workspace_id, platform="demo", platform_post_id=echo_id
            ).exists():
                continue
            target = reply.in_reply_to
            ours = self.source.handle or "hidamari_support"
            out.append(
                self._incoming(
                    echo_id,
                    reply.text,
                    ours,
                    "ひだまり製菓サポート",
                    5000,
                    timezone.now(),
                    in_reply_to=target.platform_post_id,
                    thread_id=target.thread_id,
                )
            )
            answers = [f for f in demo_followups() if f.after == reply.case.intent] or list(demo_followups())
            # Most people answer; some never do, as in life.
            if answers and self._rng.random() < 0.8:
                answer = self._rng.choice(answers)
                author = target.author
                later = self._incoming(
                    self._new_id(),
                    answer.text,
                    author.handle,
                    author.display_name,
                    author.followers_count,
                    timezone.now(),
                    in_reply_to=echo_id,
                    thread_id=target.thread_id,
                )
                self._pending.append(_Pending(time.monotonic() + self._rng.uniform(10, 30), later))
        return out


def replace_time(post: IncomingPost, at: datetime) -> IncomingPost:
    """Return the post stamped with a new time (a scheduled post is posted when it is due)."""
    from dataclasses import replace

    raw = dict(post.raw, created_at=at.isoformat())
    return replace(post, created_at=at, raw=raw)
