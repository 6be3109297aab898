"""Crisis watch over the desk: per brand, this hour's negative cases against the last week."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership, Role, Workspace
from kizuna.brands.models import Brand
from kizuna.core.crisis import NEGATIVE_INTENTS, check_spike
from kizuna.inbox.audit import record_event
from kizuna.inbox.models import Case
from kizuna.triage.models import CrisisAlert, CrisisStatus

log = logging.getLogger("kizuna.crisis")
BASELINE_DAYS = 7
NEGATIVE = Q(intent__in=NEGATIVE_INTENTS) | Q(risk="high")


def watched_hours(workspace: Workspace, brand: Brand | None, now: datetime) -> int:
    """Return for how many whole hours before the last one the brand has had cases."""
    first = (
        Case.objects.filter(workspace=workspace, brand=brand)
        .order_by("opened_at")
        .values_list("opened_at", flat=True)
        .first()
    )
    return 0 if first is None else max(0, int((now - first) / timedelta(hours=1)) - 1)


def hourly_counts(workspace: Workspace, brand: Brand | None, now: datetime) -> tuple[int, list[int]]:
    """Return (negative cases in the last 60 minutes, counts of each hour of the week before)."""
    start = now - timedelta(days=BASELINE_DAYS, hours=1)
    cases = Case.objects.filter(workspace=workspace, brand=brand, opened_at__gte=start).filter(NEGATIVE)
    per_hour: Counter[int] = Counter()
    current = 0
    for opened in cases.values_list("opened_at", flat=True):
        age = now - opened
        if age < timedelta(hours=1):
            current += 1
        else:
            per_hour[int(age / timedelta(hours=1))] += 1
    history = [per_hour.get(h, 0) for h in range(BASELINE_DAYS * 24, 0, -1)]
    return current, history


def check_workspace(workspace: Workspace, *, now: datetime | None = None) -> list[CrisisAlert]:
    """Raise an alert for every brand whose negative volume spikes; return the new alerts."""
    now = now or timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    alerts = []
    for brand in Brand.objects.filter(workspace=workspace):
        current, history = hourly_counts(workspace, brand, now)
        check = check_spike(current, history, history_hours=watched_hours(workspace, brand, now))
        if not check.spike:
            continue
        recent = CrisisAlert.objects.filter(workspace=workspace, brand=brand, created_at__gte=now - timedelta(hours=3))
        if recent.exists():
            continue
        try:
            with transaction.atomic():
                alert = CrisisAlert.objects.create(
                    workspace=workspace,
                    brand=brand,
                    hour=hour,
                    count=check.count,
                    baseline=check.baseline,
                    threshold=check.threshold,
                )
        except IntegrityError:
            continue  # another worker raised it first
        record_event(
            workspace, "crisis.alert", brand=brand.key, count=check.count, baseline=check.baseline, alert_id=alert.pk
        )
        _mail_supervisors(alert)
        alerts.append(alert)
    return alerts


def _mail_supervisors(alert: CrisisAlert) -> None:
    members = Membership.objects.filter(workspace=alert.workspace, role__in=[Role.SUPERVISOR, Role.ADMIN])
    recipients = [m.user.email for m in members.select_related("user") if m.user.email]
    if not recipients:
        return
    brand = alert.brand.name if alert.brand else "-"
    subject = _("[Kizuna] Possible crisis: %(brand)s") % {"brand": brand}
    body = _(
        "%(count)d negative or high-risk posts about %(brand)s in the last hour (usual hour: %(baseline).1f).\n"
        "Open the desk to review them and decide whether to switch to crisis mode."
    ) % {"count": alert.count, "brand": brand, "baseline": alert.baseline}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except OSError:
        log.exception("could not mail the crisis alert %s", alert.pk)


def open_alerts(workspace: Workspace) -> list[CrisisAlert]:
    """Return the alerts nobody has resolved yet."""
    return list(
        CrisisAlert.objects.filter(workspace=workspace, status__in=[CrisisStatus.OPEN, CrisisStatus.ACKNOWLEDGED])
        .select_related("brand")
        .order_by("-created_at")[:5]
    )
