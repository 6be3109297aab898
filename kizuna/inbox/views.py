"""Inbox and case views: thin; reads via selectors, writes via actions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kizuna.accounts.models import Membership
from kizuna.accounts.permissions import Perm, role_has
from kizuna.accounts.selectors import access_membership, memberships_of
from kizuna.inbox import actions
from kizuna.inbox.models import AuditEvent, Case, CloseReason, Intent, ResponseKind, Risk
from kizuna.inbox.selectors import TABS, author_other_posts, case_in_workspace, inbox_cases, tab_counts
from kizuna.replies.models import HandoffChannel
from kizuna.sources.models import Post


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    mine = memberships_of(request.user)
    if not mine:
        return render(request, "inbox/no_workspace.html", status=403)
    return redirect("inbox:inbox", slug=mine[0].workspace.slug)


@login_required
@require_GET
def inbox(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.VIEW_INBOX)
    tab = request.GET.get("tab", "todo")
    if tab not in TABS:
        tab = "todo"
    ws = membership.workspace
    last_event = AuditEvent.objects.filter(workspace=ws).order_by("-id").values_list("id", flat=True).first() or 0
    return render(
        request,
        "inbox/inbox.html",
        {
            "membership": membership,
            "workspace": ws,
            "tab": tab,
            "cases": inbox_cases(ws, tab, membership.user),
            "counts": tab_counts(ws, membership.user),
            "last_event": last_event,
            "nav": "inbox",
        },
    )


@login_required
@require_GET
def case_row(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    """One inbox row, fetched by the live inbox when a case changes."""
    membership = access_membership(request.user, slug, Perm.VIEW_INBOX)
    case = case_in_workspace(membership.workspace, case_id)
    return render(request, "inbox/_case_row.html", {"case": case, "workspace": membership.workspace, "fresh": True})


def conversation(case: Case) -> list[Post]:
    """The case's posts and everything else stored from the same thread (others' replies too)."""
    posts = Post.objects.filter(workspace_id=case.workspace_id)
    in_thread = Q(case=case) | Q(thread_id=case.thread_id) if case.thread_id else Q(case=case)
    return list(posts.filter(in_thread).select_related("author").order_by("created_at")[:200])


def case_context(membership: Membership, case: Case, **extra: object) -> dict[str, object]:
    """Everything the case page shows; replies' views add a draft and its lint result."""
    from kizuna.replies.guidance import guidance_points
    from kizuna.replies.policy import length_platform, reply_target
    from kizuna.triage.service import model_quality

    target = reply_target(case)
    return {
        "membership": membership,
        "workspace": membership.workspace,
        "case": case,
        "thread": conversation(case),
        "replies": list(case.replies.select_related("author").order_by("created_at")),
        "handoffs": list(case.handoffs.order_by("-created_at")),
        "links": list(case.links.order_by("-created_at")),
        "other_posts": author_other_posts(case),
        "events": list(case.events.select_related("actor").order_by("-id")[:50]),
        "close_reasons": CloseReason.choices,
        "intents": Intent.choices,
        "responses": ResponseKind.choices,
        "risks": Risk.choices,
        "departments": list(membership.workspace.departments.all()),
        "model_quality": model_quality(case.workspace, case.triage_model),
        "channels": HandoffChannel.choices,
        "guidance": guidance_points(case.intent, case.response),
        "platform": length_platform(target) if target else "x",
        "can_take": role_has(membership.role, Perm.TAKE_CASE),
        "can_close": role_has(membership.role, Perm.CLOSE_CASE),
        "can_reply": role_has(membership.role, Perm.DRAFT_REPLY),
        "can_approve": role_has(membership.role, Perm.APPROVE_REPLY),
        "can_handoff": role_has(membership.role, Perm.HANDOFF),
        "can_manage_rules": role_has(membership.role, Perm.MANAGE_RULES),
        "can_fetch_context": bool(target and target.source and target.source.platform in ("x", "bluesky", "mastodon")),
        "nav": "inbox",
        **extra,
    }


@login_required
@require_GET
def case_detail(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.VIEW_INBOX)
    case = case_in_workspace(membership.workspace, case_id)
    return render(request, "inbox/case.html", case_context(membership, case))


@login_required
@require_POST
def fetch_context(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    from kizuna.sources.context import do_fetch_context

    membership = access_membership(request.user, slug, Perm.TAKE_CASE)
    case = case_in_workspace(membership.workspace, case_id)
    try:
        counts = do_fetch_context(membership, case)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Context fetched: %(new)d new posts.") % counts)
    return redirect("inbox:case", slug=slug, case_id=case.pk)


@login_required
@require_POST
def take_case(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.TAKE_CASE)
    case = case_in_workspace(membership.workspace, case_id)
    actions.do_take_case(membership, case)
    messages.success(request, _("You took this case."))
    return redirect("inbox:case", slug=slug, case_id=case.pk)


@login_required
@require_POST
def close_case(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.CLOSE_CASE)
    case = case_in_workspace(membership.workspace, case_id)
    try:
        actions.do_close_case(
            membership, case, reason=request.POST.get("reason", ""), note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("inbox:case", slug=slug, case_id=case.pk)
    messages.success(request, _("Closed as no reply needed."))
    return redirect("inbox:inbox", slug=slug)


@login_required
@require_GET
def quarantine_list(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.VIEW_QUARANTINE)
    items = membership.workspace.quarantine.select_related("source")[:200]
    return render(
        request,
        "inbox/quarantine.html",
        {"membership": membership, "workspace": membership.workspace, "items": items, "nav": "quarantine"},
    )


async def inbox_stream(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    """Server-sent events: one event per audit event of the workspace, resumable by Last-Event-ID."""
    user = await request.auser()
    if request.method != "GET":
        return HttpResponse(status=405)
    if not user.is_authenticated:
        raise PermissionDenied
    membership = await sync_to_async(access_membership)(user, slug, Perm.VIEW_INBOX)
    workspace_id = membership.workspace_id
    start = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    try:
        cursor = int(start)
    except ValueError:
        cursor = 0
    poll = settings.KIZUNA_LIVE_POLL_SECONDS

    def fetch(after: int) -> list[tuple[int, int | None, str]]:
        rows = AuditEvent.objects.filter(workspace_id=workspace_id, id__gt=after).order_by("id")
        return list(rows.values_list("id", "case_id", "verb")[:200])

    async def events() -> AsyncIterator[str]:
        nonlocal cursor
        yield "retry: 3000\n\n"
        idle = 0.0
        while True:
            rows = await sync_to_async(fetch)(cursor)
            for event_id, case_id, verb in rows:
                cursor = event_id
                data = json.dumps({"case": case_id, "verb": verb})
                yield f"id: {cursor}\nevent: case\ndata: {data}\n\n"
            idle = 0.0 if rows else idle + poll
            if idle >= 15:
                idle = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(poll)

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
