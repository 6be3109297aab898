from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.inbox.models import AuditEvent, Case, CaseStatus
from kizuna.pipeline.ingest import ingest
from kizuna.replies.models import Reply, ReplyStatus
from tests.conftest import PASSWORD, Cast, make_post


@pytest.fixture
def case(cast: Cast) -> Case:
    result = ingest(cast.ws, make_post("ひだまりアプリ、決済ボタン押しても進まない"), source=cast.source)
    return Case.objects.get(pk=result.case_id)


def url(name: str, case: Case | None = None, slug: str = "hidamari") -> str:
    return reverse(name, kwargs={"slug": slug, **({"case_id": case.pk} if case else {})})


def test_it_logs_in_with_a_password(cast: Cast) -> None:
    c = Client()
    resp = c.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert resp.status_code == 302
    assert c.get("/", follow=True).request["PATH_INFO"] == url("inbox:inbox")


def test_it_sends_anonymous_users_to_login(case: Case) -> None:
    resp = Client().get(url("inbox:inbox"))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_it_shows_the_inbox_in_japanese(cast: Cast, case: Case) -> None:
    resp = cast.client(cast.alice).get(url("inbox:inbox"))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "受信箱" in body and "決済ボタン押しても進まない" in body


def test_it_shows_the_inbox_in_english_when_asked(cast: Cast, case: Case) -> None:
    c = cast.client(cast.alice)
    c.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Inbox" in c.get(url("inbox:inbox")).content.decode()


@pytest.mark.parametrize("name", ["inbox:case", "inbox:case_row"])
def test_it_shows_a_case_to_members(cast: Cast, case: Case, name: str) -> None:
    assert cast.client(cast.vera).get(url(name, case)).status_code == 200


@pytest.mark.parametrize("name", ["inbox:inbox", "inbox:stream", "inbox:quarantine"])
def test_it_hides_the_workspace_from_other_tenants(cast: Cast, name: str) -> None:
    assert cast.client(cast.charlie).get(url(name)).status_code == 404


@pytest.mark.parametrize("name", ["inbox:case", "inbox:case_row"])
def test_it_hides_cases_from_other_tenants(cast: Cast, case: Case, name: str) -> None:
    assert cast.client(cast.charlie).get(url(name, case)).status_code == 404


def test_it_hides_a_case_behind_another_workspace_slug(cast: Cast, case: Case) -> None:
    c = cast.client(cast.charlie)
    assert c.get(url("inbox:case", case, slug="rival")).status_code == 404
    assert c.post(url("inbox:take", case, slug="rival")).status_code == 404


@pytest.mark.parametrize("name", ["inbox:take", "inbox:close", "replies:reply"])
def test_it_denies_mutations_to_other_tenants(cast: Cast, case: Case, name: str) -> None:
    resp = cast.client(cast.charlie).post(url(name, case), {"reason": "noise", "text": "hi"})
    assert resp.status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW and not Reply.objects.exists()


@pytest.mark.parametrize("name", ["inbox:take", "inbox:close", "replies:reply"])
def test_it_denies_mutations_to_viewers(cast: Cast, case: Case, name: str) -> None:
    assert cast.client(cast.vera).post(url(name, case), {"reason": "noise", "text": "hi"}).status_code == 403


def test_it_denies_quarantine_to_operators(cast: Cast) -> None:
    assert cast.client(cast.alice).get(url("inbox:quarantine")).status_code == 403
    assert cast.client(cast.bob).get(url("inbox:quarantine")).status_code == 200


@pytest.mark.parametrize("name", ["inbox:take", "inbox:close", "replies:reply"])
def test_it_never_mutates_on_get(cast: Cast, case: Case, name: str) -> None:
    events = AuditEvent.objects.count()
    assert cast.client(cast.alice).get(url(name, case)).status_code == 405
    assert AuditEvent.objects.count() == events


def test_it_requires_csrf(cast: Cast, case: Case) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(cast.alice)
    assert c.post(url("inbox:take", case)).status_code == 403


def test_it_takes_a_case(cast: Cast, case: Case) -> None:
    resp = cast.client(cast.alice).post(url("inbox:take", case))
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.assignee == cast.alice and case.status == CaseStatus.OPEN
    assert AuditEvent.objects.filter(case=case, verb="case.taken", actor=cast.alice).exists()


def test_it_closes_a_case_with_a_reason(cast: Cast, case: Case) -> None:
    cast.client(cast.alice).post(url("inbox:close", case), {"reason": "no_action", "note": "独り言"})
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.close_reason == "no_action" and case.close_note == "独り言"
    assert AuditEvent.objects.filter(case=case, verb="case.closed").exists()


def test_it_refuses_to_close_without_a_reason(cast: Cast, case: Case) -> None:
    cast.client(cast.alice).post(url("inbox:close", case), {"reason": ""})
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_it_sends_a_reply_to_the_dry_run_outbox(cast: Cast, case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(risk="medium")  # whatever the model says: no approval needed
    c = cast.client(cast.alice)
    c.post(url("replies:reply", case), {"text": "ご不便をおかけしております。担当の鈴木です。"})
    reply = Reply.objects.get()
    assert reply.status == ReplyStatus.DRY_RUN and reply.author == cast.alice
    page = c.get(url("inbox:case", case)).content.decode()
    assert "未送信(ドライラン)" in page
    assert AuditEvent.objects.filter(case=case, verb="reply.dry_run").exists()


def test_it_holds_trainee_replies_for_approval(cast: Cast, case: Case) -> None:
    cast.client(cast.trent).post(url("replies:reply", case), {"text": "ご不便をおかけしております。担当の田中です。"})
    assert Reply.objects.get().status == ReplyStatus.PENDING_APPROVAL


def test_it_escapes_hostile_post_text(cast: Cast) -> None:
    hostile = 'サクッと <script>alert("x")</script><img src=x onerror=alert(1)>'
    result = ingest(cast.ws, make_post(hostile))
    case = Case.objects.get(pk=result.case_id)
    for name in ("inbox:case", "inbox:case_row"):
        body = cast.client(cast.alice).get(url(name, case)).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;" in body


def test_it_stays_japanese_for_an_english_browser(cast: Cast, case: Case) -> None:
    body = cast.client(cast.alice).get(url("inbox:inbox"), headers={"Accept-Language": "en-US,en"}).content.decode()
    assert "受信箱" in body


def test_it_throttles_password_guessing(cast: Cast) -> None:
    from django.core.cache import cache

    cache.clear()
    c = Client()
    for _ in range(5):
        assert c.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"}).status_code == 200
    blocked = c.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429 and "15" in blocked.content.decode()
    cache.clear()
    assert c.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD}).status_code == 302
