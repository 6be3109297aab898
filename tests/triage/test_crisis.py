from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kizuna.core.crisis import check_spike
from kizuna.inbox.models import AuditEvent, Case
from kizuna.replies.actions import do_write_reply
from kizuna.replies.models import ReplyStatus
from kizuna.triage.actions import do_set_crisis_mode
from kizuna.triage.crisis import check_workspace
from kizuna.triage.models import CrisisAlert
from tests.conftest import Cast
from tests.replies.conftest import SIGNED, open_case


def test_it_needs_a_real_jump_over_the_brands_own_baseline() -> None:
    quiet = [0] * 160 + [1] * 8
    assert not check_spike(4, quiet).spike  # below the minimum
    assert check_spike(6, quiet).spike
    busy = [10, 14, 9, 12] * 42
    assert not check_spike(20, busy).spike  # an ordinary busy hour of a big brand
    assert check_spike(45, busy).spike


def test_it_alerts_supervisors_on_a_simulated_spike(cast: Cast) -> None:
    cast.bob.email = "bob@hidamari.example"
    cast.bob.save()
    out = io.StringIO()
    call_command("crisis", "simulate", "--brand", "sakutto", "--workspace", "hidamari", stdout=out)
    assert "ALERT サクッと" in out.getvalue()
    alert = CrisisAlert.objects.get()
    assert alert.count >= 5 and alert.brand and alert.brand.key == "sakutto"
    assert AuditEvent.objects.filter(verb="crisis.alert").exists()
    assert [m.to for m in mail.outbox] == [["bob@hidamari.example"]]
    assert "サクッと" in mail.outbox[0].subject
    page = cast.client(cast.alice).get(reverse("inbox:inbox", args=["hidamari"])).content.decode()
    assert 'class="crisis"' in page
    # The same spike does not alert twice.
    assert check_workspace(cast.ws) == []


def test_it_waits_for_a_baseline_before_alerting_on_a_new_brand() -> None:
    assert not check_spike(40, [0] * 168, history_hours=6).spike  # a desk's first hours
    assert check_spike(60, [0] * 168, history_hours=6).spike  # ...unless it is a flood
    assert check_spike(8, [0] * 140 + [1] * 28, history_hours=168).spike


def test_it_ignores_an_ordinary_hour(cast: Cast) -> None:
    open_case(cast, "サクッと割れてた", author="a1")
    assert check_workspace(cast.ws) == []


def test_it_compares_with_the_brands_past_week(cast: Cast) -> None:
    # A brand that always gets about this many complaints an hour is not in crisis.
    from kizuna.brands.models import Brand
    from kizuna.sources.models import Author

    now = timezone.now()
    brand = Brand.objects.get(workspace=cast.ws, key="sakutto")
    author = Author.objects.create(workspace=cast.ws, platform="demo", handle="regular")
    Case.objects.bulk_create(
        Case(workspace=cast.ws, author=author, brand=brand, intent="complaint", last_post_at=now)
        for _ in range(7 * 24 * 4)
    )
    ids = list(Case.objects.values_list("id", flat=True))
    for n, case_id in enumerate(ids):
        Case.objects.filter(pk=case_id).update(opened_at=now - timedelta(hours=1 + n // 4, minutes=5))
    for n in range(6):
        open_case(cast, f"サクッとまた割れてた {n}", author=f"n{n}")
    assert check_workspace(cast.ws) == []


def test_it_holds_every_reply_and_blocks_every_rule_in_crisis_mode(cast: Cast) -> None:
    do_set_crisis_mode(cast.member(cast.bob), on=True)
    cast.ws.refresh_from_db()
    case = open_case(cast, "ひだまりアプリ、ログインできない")
    reply = do_write_reply(cast.member(cast.alice), case, text=SIGNED)
    assert reply.status == ReplyStatus.PENDING_APPROVAL
    assert any("crisis" in r or "炎上" in r or "緊急" in r for r in reply.approval_reasons)
    assert AuditEvent.objects.filter(verb="crisis.mode_on", actor=cast.bob).exists()


def test_it_lets_only_supervisors_switch_crisis_mode(cast: Cast) -> None:
    url = reverse("triage:crisis_mode", args=["hidamari"])
    assert cast.client(cast.alice).post(url, {"on": "1"}).status_code == 403
    assert cast.client(cast.charlie).post(url, {"on": "1"}).status_code == 404
    assert cast.client(cast.bob).post(url, {"on": "1"}).status_code == 302
    cast.ws.refresh_from_db()
    assert cast.ws.crisis_mode


@pytest.mark.parametrize("name", ["triage:overview"])
def test_it_hides_triage_from_other_tenants(cast: Cast, name: str) -> None:
    assert cast.client(cast.charlie).get(reverse(name, args=["hidamari"])).status_code == 404
    assert cast.client(cast.vera).get(reverse(name, args=["hidamari"])).status_code == 200
