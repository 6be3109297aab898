from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kizuna.inbox.models import AuditEvent, CaseStatus
from kizuna.replies.actions import ReplyBlocked, do_approve_reply, do_reject_reply, do_write_reply
from kizuna.replies.models import Reply, ReplyStatus
from tests.conftest import Cast
from tests.replies.conftest import SIGNED, open_case


def test_it_blocks_an_unsigned_reply_and_stores_nothing(cast: Cast) -> None:
    case = open_case(cast, "ひだまりアプリにログインできない")
    with pytest.raises(ReplyBlocked) as exc:
        do_write_reply(cast.member(cast.alice), case, text="ご不便をおかけしております。")
    assert any(v.rule == "signature" for v in exc.value.result.violations)
    assert not Reply.objects.exists()


def test_it_blocks_selling_and_discounts(cast: Cast) -> None:
    case = open_case(cast, "サクッと値上げしすぎ")
    with pytest.raises(ReplyBlocked) as exc:
        do_write_reply(
            cast.member(cast.alice),
            case,
            text="申し訳ございません。次回100円引きクーポンを差し上げます。担当の鈴木です。",
        )
    assert "incentive" in {v.rule for v in exc.value.result.violations}


def test_it_records_the_policy_version_a_reply_passed(cast: Cast) -> None:
    case = open_case(cast, "ひだまりアプリにログインできない")
    reply = do_write_reply(cast.member(cast.alice), case, text=SIGNED)
    assert reply.status == ReplyStatus.DRY_RUN and reply.policy_version == 1
    assert reply.lint["length"]["limit"] == 280


def test_it_warns_about_a_copied_reply_but_lets_it_go(cast: Cast) -> None:
    first = open_case(cast, "ひだまりアプリにログインできない", author="one")
    second = open_case(cast, "ひだまりアプリ、ログインできません", author="two")
    do_write_reply(cast.member(cast.alice), first, text=SIGNED + "お手数ですがアプリを再起動してお試しください。")
    reply = do_write_reply(
        cast.member(cast.alice), second, text=SIGNED + "お手数ですがアプリを再起動してお試しください!"
    )
    assert reply.status == ReplyStatus.DRY_RUN
    assert [v["rule"] for v in reply.lint["violations"]] == ["copy"]


def test_it_holds_high_risk_and_staff_replies_for_approval(cast: Cast) -> None:
    risky = open_case(cast, "サクッとに異物が入ってた。消費者センターに言う", author="r1")
    staff = open_case(cast, "ひだまりマルシェの吉祥寺店の店員の態度が最悪", author="r2")
    for case in (risky, staff):
        reply = do_write_reply(cast.member(cast.alice), case, text=SIGNED)
        assert reply.status == ReplyStatus.PENDING_APPROVAL and reply.approval_reasons
        case.refresh_from_db()
        assert case.status == CaseStatus.OPEN


def test_it_sends_an_approved_reply_on(cast: Cast) -> None:
    case = open_case(cast, "ひだまりマルシェ梅田店のスタッフ対応ひどい")
    reply = do_write_reply(cast.member(cast.trent), case, text=SIGNED.replace("鈴木", "田中"))
    do_approve_reply(cast.member(cast.bob), reply)
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.DRY_RUN and reply.approved_by == cast.bob
    assert AuditEvent.objects.filter(verb="reply.approved", actor=cast.bob).exists()


def test_it_lints_an_edit_made_while_approving(cast: Cast) -> None:
    case = open_case(cast, "ひだまりマルシェ梅田店のスタッフ対応ひどい")
    reply = do_write_reply(cast.member(cast.trent), case, text=SIGNED.replace("鈴木", "田中"))
    with pytest.raises(ReplyBlocked):
        do_approve_reply(cast.member(cast.bob), reply, text="今ならセール中です！担当の田中です")
    do_approve_reply(cast.member(cast.bob), reply, text="大変失礼いたしました。店舗に共有いたします。担当の田中です。")
    reply.refresh_from_db()
    assert reply.text.startswith("大変失礼") and reply.status == ReplyStatus.DRY_RUN
    assert AuditEvent.objects.filter(verb="reply.edited_and_approved").exists()


def test_it_rejects_with_a_note(cast: Cast) -> None:
    case = open_case(cast, "ひだまりマルシェ梅田店のスタッフ対応ひどい")
    reply = do_write_reply(cast.member(cast.trent), case, text=SIGNED.replace("鈴木", "田中"))
    with pytest.raises(ValidationError):
        do_reject_reply(cast.member(cast.bob), reply, note=" ")
    do_reject_reply(cast.member(cast.bob), reply, note="謝罪の前に状況を伺いましょう")
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.REJECTED and reply.review_note.startswith("謝罪")


def test_it_flags_two_drafts_and_never_sends_both(cast: Cast) -> None:
    case = open_case(cast, "ひだまりマルシェ梅田店のスタッフ対応ひどい")
    first = do_write_reply(cast.member(cast.trent), case, text=SIGNED.replace("鈴木", "田中"))
    second = do_write_reply(cast.member(cast.alice), case, text="大変失礼いたしました。担当の鈴木です。")
    assert second.conflicts_with == first and second.status == ReplyStatus.PENDING_APPROVAL
    do_approve_reply(cast.member(cast.bob), second)
    first.refresh_from_db()
    assert first.status == ReplyStatus.REJECTED and f"#{second.pk}" in first.review_note
    with pytest.raises(ValidationError):
        do_approve_reply(cast.member(cast.bob), first)


def test_it_refuses_approval_after_another_reply_went_out(cast: Cast) -> None:
    case = open_case(cast, "ひだまりアプリ落ちる")
    held = do_write_reply(cast.member(cast.trent), case, text=SIGNED.replace("鈴木", "田中"))
    sent = do_write_reply(cast.member(cast.alice), case, text="ご不便をおかけしました。担当の鈴木です。")
    assert sent.status == ReplyStatus.PENDING_APPROVAL  # flagged: the trainee's draft is on its way
    Reply.objects.filter(pk=sent.pk).update(status=ReplyStatus.DRY_RUN)
    Reply.objects.filter(pk=sent.pk).update(sent_at=held.created_at)
    with pytest.raises(ValidationError):
        do_approve_reply(cast.member(cast.bob), held)


def test_it_denies_approval_to_operators(cast: Cast) -> None:
    from django.core.exceptions import PermissionDenied

    case = open_case(cast, "ひだまりマルシェ梅田店のスタッフ対応ひどい")
    reply = do_write_reply(cast.member(cast.trent), case, text=SIGNED.replace("鈴木", "田中"))
    with pytest.raises(PermissionDenied):
        do_approve_reply(cast.member(cast.alice), reply)
