from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kizuna.brands.backfill import do_start_backfill, process_backfill_batch
from kizuna.brands.models import BackfillJob, Rule
from kizuna.inbox.models import AuditEvent, Case
from kizuna.pipeline.ingest import ingest
from kizuna.sources.models import Post
from tests.conftest import Cast, make_post


@pytest.fixture
def posts(cast: Cast) -> None:
    now = timezone.now()
    for i, text in enumerate(
        ["もちもちラボの新作食べた", "もちもちラボ 高すぎ", "サクッと美味しい", "もちもちした食感"]
    ):
        ingest(cast.ws, make_post(text, author=f"u{i}", created_at=now - timedelta(hours=i + 1)))


def test_it_previews_a_draft_rule_against_stored_posts(cast: Cast, posts: None) -> None:
    resp = cast.client(cast.bob).get(reverse("brands:preview", args=["hidamari"]), {"query": "もちもちラボ -高すぎ"})
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "もちもちラボの新作食べた" in body and "高すぎ" not in body.split("Examples")[-1].split("例")[-1]
    assert "1" in body


def test_it_shows_where_a_query_is_wrong(cast: Cast) -> None:
    body = cast.client(cast.bob).get(reverse("brands:preview", args=["hidamari"]), {"query": "(a OR"}).content.decode()
    assert "position" in body and "<mark>" in body


def test_it_shows_what_a_change_stops_collecting(cast: Cast, posts: None) -> None:
    resp = cast.client(cast.bob).get(
        reverse("brands:preview", args=["hidamari"]), {"query": "サクッと -美味しい", "key": "sakutto"}
    )
    assert "サクッと美味しい" in resp.content.decode()


def test_it_creates_and_backfills_a_rule(cast: Cast, posts: None) -> None:
    c = cast.client(cast.bob)
    resp = c.post(
        reverse("brands:rules", args=["hidamari"]), {"key": "mochi", "query": "もちもちラボ", "brand": "sakutto"}
    )
    assert resp.status_code == 302
    assert Rule.objects.filter(key="mochi", brand__key="sakutto").exists()
    assert AuditEvent.objects.filter(verb="rule.created", data__rule="mochi").exists()
    c.post(reverse("brands:backfill", args=["hidamari", "mochi"]), {"days": "7"})
    job = BackfillJob.objects.get()
    assert job.total >= 4
    while process_backfill_batch(job, batch=2):
        pass
    assert job.status == "done" and job.matched == 2 and job.cases_opened == 2
    assert sum("mochi" in p.matched_rules for p in Post.objects.all()) == 2
    assert Post.objects.filter(text__startswith="もちもちラボ", case__isnull=False).count() == 2
    progress = c.get(reverse("brands:backfill_progress", args=["hidamari", job.pk])).content.decode()
    assert "100" in progress


def test_it_refuses_a_rule_that_does_not_parse(cast: Cast) -> None:
    resp = cast.client(cast.bob).post(
        reverse("brands:rules", args=["hidamari"]), {"key": "bad", "query": "(a OR"}, follow=True
    )
    assert "position" in resp.content.decode()
    assert not Rule.objects.filter(key="bad").exists()


def test_it_applies_an_edited_rule_without_a_restart(cast: Cast) -> None:
    assert ingest(cast.ws, make_post("もちもちラボ最高", author="a1")).case_id is None
    cast.client(cast.bob).post(
        reverse("brands:rule", args=["hidamari", "sakutto"]),
        {"query": "サクッと OR もちもちラボ", "brand": "sakutto", "enabled": "on"},
    )
    assert ingest(cast.ws, make_post("もちもちラボ最高2", author="a2")).case_id is not None


def test_it_backfills_from_the_command_line(cast: Cast, posts: None) -> None:
    Rule.objects.create(workspace=cast.ws, key="mochi", query="もちもちラボ")
    out = io.StringIO()
    call_command("rules", "backfill", "mochi", "--workspace", "hidamari", "--no-progress", stdout=out)
    assert "4 posts checked, 2 newly matched, 2 cases opened" in out.getvalue()
    out = io.StringIO()
    call_command("rules", "backfill", "mochi", "--workspace", "hidamari", "--no-progress", stdout=out)
    assert "0 newly matched, 0 cases opened" in out.getvalue()


def test_it_restores_an_excluded_post(cast: Cast) -> None:
    result = ingest(cast.ws, make_post("サクッと最高", is_repost=True))
    resp = cast.client(cast.bob).post(reverse("brands:restore", args=["hidamari", result.post_id]))
    assert resp.status_code == 302
    assert Case.objects.count() == 1 and Post.objects.get(pk=result.post_id).exclusion == ""


def test_it_blocks_an_author_from_the_case_page(cast: Cast) -> None:
    result = ingest(cast.ws, make_post("サクッと買って", author="pest"))
    author_id = Post.objects.get(pk=result.post_id).author_id
    c = cast.client(cast.bob)
    c.post(reverse("brands:block_author", args=["hidamari", author_id]))
    c.post(reverse("inbox:close", args=["hidamari", result.case_id]), {"reason": "spam"})
    cast.ws.refresh_from_db()
    assert "pest" in cast.ws.collection["blocked_authors"]
    assert ingest(cast.ws, make_post("サクッとまた", author="pest")).reason == "blocked_author"


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "brands:rules", []),
        ("get", "brands:preview", []),
        ("get", "brands:exclusions", []),
        ("get", "brands:rule", ["sakutto"]),
        ("post", "brands:backfill", ["sakutto"]),
    ],
)
def test_it_denies_rules_to_operators_and_other_tenants(cast: Cast, method: str, name: str, args: list[str]) -> None:
    target = reverse(name, args=["hidamari", *args])
    assert getattr(cast.client(cast.alice), method)(target).status_code == 403
    assert getattr(cast.client(cast.charlie), method)(target).status_code == 404
    assert not BackfillJob.objects.exists()


def test_it_never_starts_a_backfill_on_get(cast: Cast) -> None:
    assert cast.client(cast.bob).get(reverse("brands:backfill", args=["hidamari", "sakutto"])).status_code == 405
    assert not BackfillJob.objects.exists()
    assert do_start_backfill  # the action exists for POST
