from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from kizuna.pipeline.models import QuarantinedPayload
from kizuna.sources.models import Post
from tests.conftest import Cast


def _line(**kw: object) -> str:
    base: dict[str, object] = {
        "id": "1",
        "text": "サクッと美味しい",
        "author": "yuzu",
        "created_at": "2026-11-20T09:00:00Z",
        "platform": "x",
    }
    base.update(kw)
    return json.dumps(base, ensure_ascii=False)


@pytest.fixture
def mixed_file(tmp_path: Path) -> Path:
    lines = [
        _line(id="100"),
        _line(id="101", text="ひだまりアプリが落ちる", author="@momo", lang="ja", author_followers=12000),
        _line(id="100"),  # duplicate inside the file
        "{not json",
        _line(id="102", text=None),
        _line(id="103", created_at="yesterday"),
        "",
        _line(id="104", platform="myspace"),
        _line(id="105", in_reply_to="101", author="momo", text="追記です"),
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import", str(path), "--workspace", "hidamari", "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_reports_new_duplicate_and_quarantined(cast: Cast, mixed_file: Path) -> None:
    out, err = _run(mixed_file)
    assert "3 new, 1 duplicate, 4 quarantined" in out
    assert "line 4: invalid JSON" in err
    assert 'line 5: missing required field "text"' in err
    assert 'line 6: "created_at" is not an ISO 8601 time' in err
    assert 'line 8: unknown platform "myspace"' in err
    reasons = set(QuarantinedPayload.objects.values_list("origin", flat=True))
    assert "import posts.jsonl line 4" in reasons


def test_it_adds_nothing_when_the_same_file_is_imported_again(cast: Cast, mixed_file: Path) -> None:
    _run(mixed_file)
    posts, held = Post.objects.count(), QuarantinedPayload.objects.count()
    out, _ = _run(mixed_file)
    assert "0 new, 4 duplicate, 4 quarantined" in out
    assert Post.objects.count() == posts and QuarantinedPayload.objects.count() == held


def test_it_keeps_the_thread_of_a_reply(cast: Cast, mixed_file: Path) -> None:
    _run(mixed_file)
    reply = Post.objects.get(platform_post_id="105")
    parent = Post.objects.get(platform_post_id="101")
    assert reply.case_id == parent.case_id is not None
    assert parent.author.followers_count == 12000
