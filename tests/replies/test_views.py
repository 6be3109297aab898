from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.inbox.models import AuditEvent, Case
from kizuna.replies.actions import do_write_reply
from kizuna.replies.models import Handoff, Reply, ReplyStatus, ShortLink
from tests.conftest import Cast
from tests.replies.conftest import SIGNED, open_case


@pytest.fixture
def case(cast: Cast) -> Case:
    return open_case(cast, "ひだまりアプリにログインできない")


def u(name: str, *args: object) -> str:
    return reverse(name, args=["hidamari", *args])


def test_it_shows_length_and_findings_while_typing(cast: Cast, case: Case) -> None:
    resp = cast.client(cast.alice).post(u("replies:lint", case.pk), {"text": "今ならお得なセール中！"})
    body = resp.content.decode()
    assert resp.status_code == 200 and "/ 280" in body
    assert "セールス" in body and "今なら" in body and "名乗" in body
    assert not Reply.objects.exists()


def test_it_keeps_the_draft_when_the_policy_blocks_it(cast: Cast, case: Case) -> None:
    resp = cast.client(cast.alice).post(u("replies:reply", case.pk), {"text": "DMでご連絡ください"})
    body = resp.content.decode()
    assert resp.status_code == 422
    assert "DMでご連絡ください</textarea>" in body and "ダイレクトメッセージ" in body
    assert not Reply.objects.exists()


def test_it_shows_guidance_not_templates(cast: Cast, case: Case) -> None:
    body = cast.client(cast.alice).get(u("inbox:case", case.pk)).content.decode()
    assert "担当の○○です" in body


def test_it_lists_replies_waiting_for_approval(cast: Cast) -> None:
    staff = open_case(cast, "ひだまりマルシェの店員の態度が最悪", author="angry")
    do_write_reply(cast.member(cast.trent), staff, text=SIGNED.replace("鈴木", "田中"))
    body = cast.client(cast.bob).get(u("replies:approvals")).content.decode()
    assert "店員の態度が最悪" in body and "担当の田中です" in body


def test_it_approves_from_the_queue(cast: Cast) -> None:
    staff = open_case(cast, "ひだまりマルシェの店員の態度が最悪", author="angry")
    reply = do_write_reply(cast.member(cast.trent), staff, text=SIGNED.replace("鈴木", "田中"))
    cast.client(cast.bob).post(u("replies:approve", reply.pk), {"text": reply.text})
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.DRY_RUN


def test_it_shortens_a_link_and_counts_clicks(cast: Cast, case: Case) -> None:
    resp = cast.client(cast.alice).post(u("replies:link", case.pk), {"url": "https://example.com/faq/login"})
    link = ShortLink.objects.get()
    assert f"/s/{link.code}" in resp.content.decode()
    anonymous = Client()
    for _ in range(2):
        follow = anonymous.get(f"/s/{link.code}")
        assert follow.status_code == 302 and follow["Location"] == "https://example.com/faq/login"
    link.refresh_from_db()
    assert link.clicks == 2


def test_it_refuses_to_shorten_a_script_address(cast: Cast, case: Case) -> None:
    resp = cast.client(cast.alice).post(u("replies:link", case.pk), {"url": "javascript:alert(1)"})
    assert resp.status_code == 422 and not ShortLink.objects.exists()


def test_it_hands_off_with_a_reference_code_and_records_the_outcome(cast: Cast, case: Case) -> None:
    cast.client(cast.alice).post(u("replies:handoff", case.pk), {"channel": "phone", "note": "折り返し希望"})
    handoff = Handoff.objects.get()
    assert handoff.code.startswith("KZ-") and len(handoff.code) == 9
    page = cast.client(cast.vera).get(u("replies:handoffs"), {"code": handoff.code[3:].lower()}).content.decode()
    assert "ひだまりアプリにログインできない" in page and "折り返し希望" in page
    dept = cast.client(cast.vera).post(u("replies:outcome", handoff.code), {"outcome": "x"})
    assert dept.status_code == 403  # a viewer cannot write
    cast.client(cast.alice).post(u("replies:outcome", handoff.code), {"outcome": "電話で再設定を案内し解決"})
    handoff.refresh_from_db()
    assert handoff.outcome == "電話で再設定を案内し解決"
    assert AuditEvent.objects.filter(case=case, verb="case.handoff_outcome").exists()


@pytest.mark.parametrize(
    ("name", "needs_case"),
    [("replies:lint", True), ("replies:reply", True), ("replies:link", True), ("replies:handoff", True)],
)
def test_it_denies_reply_actions_to_other_tenants_and_viewers(
    cast: Cast, case: Case, name: str, needs_case: bool
) -> None:
    target = u(name, case.pk)
    data = {"text": SIGNED, "url": "https://example.com", "channel": "phone"}
    assert cast.client(cast.charlie).post(target, data).status_code == 404
    assert cast.client(cast.vera).post(target, data).status_code == 403
    assert not Reply.objects.exists() and not ShortLink.objects.exists() and not Handoff.objects.exists()


@pytest.mark.parametrize("name", ["replies:approvals", "replies:handoffs"])
def test_it_hides_pages_from_other_tenants(cast: Cast, name: str) -> None:
    assert cast.client(cast.charlie).get(u(name)).status_code == 404


def test_it_denies_approvals_to_operators(cast: Cast) -> None:
    assert cast.client(cast.alice).get(u("replies:approvals")).status_code == 403


def test_it_never_replies_on_get(cast: Cast, case: Case) -> None:
    assert cast.client(cast.alice).get(u("replies:reply", case.pk), {"text": SIGNED}).status_code == 405
    assert not Reply.objects.exists()


def test_it_hides_another_workspace_handoff_code(cast: Cast, case: Case) -> None:
    from kizuna.replies.actions import do_hand_off

    handoff = do_hand_off(cast.member(cast.alice), case, channel="email", note="")
    page = cast.client(cast.charlie).get(reverse("replies:handoffs", args=["rival"]), {"code": handoff.code})
    assert page.status_code == 200 and "ログインできない" not in page.content.decode()
