"""Triage in the UI: the model and its measured quality, operators' corrections, crisis watch."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kizuna.accounts.permissions import Perm, role_has
from kizuna.accounts.selectors import access_membership
from kizuna.inbox.actions import do_correct_triage
from kizuna.inbox.selectors import case_in_workspace
from kizuna.triage import actions, service
from kizuna.triage.models import CrisisAlert, TriageFeedback


@login_required
@require_GET
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.VIEW_INBOX)
    ws = membership.workspace
    info = service.model_info(ws)
    feedback = TriageFeedback.objects.filter(workspace=ws)
    return render(
        request,
        "triage/overview.html",
        {
            "membership": membership,
            "workspace": ws,
            "nav": "triage",
            "info": info,
            "heldout_figures": service.goal_figures(info.metrics),
            "test_figures": service.goal_figures(info.metrics["test"]) if info.metrics.get("test") else [],
            "versions": ws.triage_models.all()[:10],
            "feedback_total": feedback.count(),
            "feedback_by_kind": feedback.values("kind").annotate(n=Count("id")).order_by("kind"),
            "recent_feedback": feedback.select_related("actor")[:15],
            "alerts": CrisisAlert.objects.filter(workspace=ws).select_related("brand")[:20],
            "can_manage": role_has(membership.role, Perm.APPROVE_REPLY),
        },
    )


@login_required
@require_POST
def crisis_mode(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.APPROVE_REPLY)
    on = request.POST.get("on") == "1"
    actions.do_set_crisis_mode(membership, on=on)
    messages.success(request, _("Crisis mode is on.") if on else _("Crisis mode is off."))
    return redirect("triage:overview", slug=slug)


@login_required
@require_POST
def alert_status(request: HttpRequest, slug: str, alert_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.APPROVE_REPLY)
    alert = get_object_or_404(CrisisAlert, workspace=membership.workspace, pk=alert_id)
    try:
        actions.do_update_alert(membership, alert, status=request.POST.get("status", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("triage:overview", slug=slug)


@login_required
@require_POST
def correct_labels(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.TAKE_CASE)
    case = case_in_workspace(membership.workspace, case_id)
    try:
        do_correct_triage(
            membership,
            case,
            intent=request.POST.get("intent", ""),
            response=request.POST.get("response", ""),
            risk=request.POST.get("risk", ""),
            department_key=request.POST.get("department", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Labels corrected. Triage learns from this at the next training."))
    return redirect("inbox:case", slug=slug, case_id=case.pk)
