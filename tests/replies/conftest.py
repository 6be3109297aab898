from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from kizuna.inbox.models import Case
from kizuna.pipeline.ingest import ingest
from kizuna.replies import publishers
from kizuna.sources.base import Published, ReplyTarget
from kizuna.sources.models import Platform, Source
from tests.conftest import Cast, make_post

SIGNED = "ご不便をおかけしております。ひだまり製菓サポート担当の鈴木です。"


@dataclass
class FakePlatform:
    """A platform at the network seam: remembers what was posted, can fail on demand."""

    posted: list[tuple[str, str, str]] = field(default_factory=list)
    fail_with: Exception | None = None
    crash_after_post: bool = False

    def publish(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published:
        if self.fail_with is not None:
            raise self.fail_with
        self.posted.append((text, target.platform_post_id, idempotency_key))
        if self.crash_after_post:
            self.crash_after_post = False
            raise SystemExit("worker killed after the platform accepted the post")
        return Published(f"x-{len(self.posted)}", f"https://x.com/hidamari_support/status/x-{len(self.posted)}")

    def find_published(self, *, text: str, target: ReplyTarget, idempotency_key: str) -> Published | None:
        for n, (_text, _target, key) in enumerate(self.posted, 1):
            if key == idempotency_key:
                return Published(f"x-{n}")
        return None


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform()
    publishers._overrides[Platform.X] = lambda credentials, source: fake  # type: ignore[assignment,return-value]
    yield fake
    publishers._overrides.pop(Platform.X, None)


@pytest.fixture
def x_source(cast: Cast) -> Source:
    source = Source.objects.create(workspace=cast.ws, platform=Platform.X, name="X", handle="hidamari_support")
    source.set_credentials({"bearer_token": "secret"})
    source.save()
    return source


def open_case(cast: Cast, text: str, *, source: Source | None = None, platform: str = "demo", **kw: Any) -> Case:
    result = ingest(cast.ws, make_post(text, platform=platform, **kw), source=source or cast.source)
    assert result.case_id, text
    return Case.objects.get(pk=result.case_id)
