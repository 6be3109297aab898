"""The composer, approvals, short links and handoffs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kizuna.accounts.permissions import Perm
from kizuna.accounts.selectors import access_membership
from kizuna.inbox.selectors import case_in_workspace
from kizuna.inbox.views import case_context
from kizuna.replies import actions
from kizuna.replies.models import Handoff, Reply, ReplyStatus, ShortLink
from kizuna.replies.policy import lint_draft
from kizuna.replies.presentation import present_findings


@login_required
@require_POST
def lint_preview(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    """Length and policy findings for the draft being typed (POST: drafts are long; nothing is stored)."""
    membership = access_membership(request.user, slug, Perm.DRAFT_REPLY)
    case = case_in_workspace(membership.workspace, case_id)
    draft = request.POST.get("text", "")
    lint = lint_draft(membership, case, draft).to_dict()
    return render(
        request, "replies/_lint.html", {"lint": lint, "draft": draft, "findings": present_findings(lint, draft)}
    )


@login_required
@require_POST
def write_reply(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.DRAFT_REPLY)
    case = case_in_workspace(membership.workspace, case_id)
    text = request.POST.get("text", "")
    try:
        reply = actions.do_write_reply(membership, case, text=text, kind=request.POST.get("kind", ""))
    except actions.ReplyBlocked as exc:
        lint = exc.result.to_dict()
        context = case_context(membership, case, draft=text, lint=lint, findings=present_findings(lint, text))
        return render(request, "inbox/case.html", context, status=422)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return render(request, "inbox/case.html", case_context(membership, case, draft=text), status=422)
    messages.success(request, _("Reply recorded: %(status)s") % {"status": reply.get_status_display()})
    return redirect("inbox:case", slug=slug, case_id=case.pk)


@login_required
@require_GET
def approvals(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.APPROVE_REPLY)
    pending_replies = (
        Reply.objects.filter(workspace=membership.workspace, status=ReplyStatus.PENDING_APPROVAL)
        .select_related("case__author", "author", "in_reply_to", "conflicts_with")
        .order_by("created_at")
    )
    pending = list(pending_replies)
    for reply in pending:
        reply.findings = present_findings(reply.lint, reply.text)  # type: ignore[attr-defined]
    failed = Reply.objects.filter(workspace=membership.workspace, status=ReplyStatus.FAILED).select_related("case")
    return render(
        request,
        "replies/approvals.html",
        {
            "membership": membership,
            "workspace": membership.workspace,
            "pending": pending,
            "failed": failed,
            "nav": "approvals",
        },
    )


def _reply(membership: object, reply_id: int) -> Reply:
    return get_object_or_404(Reply, pk=reply_id, workspace=membership.workspace)  # type: ignore[attr-defined]


@login_required
@require_POST
def approve(request: HttpRequest, slug: str, reply_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.APPROVE_REPLY)
    reply = _reply(membership, reply_id)
    try:
        actions.do_approve_reply(membership, reply, text=request.POST.get("text"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Approved."))
    return redirect("replies:approvals", slug=slug)


@login_required
@require_POST
def reject(request: HttpRequest, slug: str, reply_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.APPROVE_REPLY)
    try:
        actions.do_reject_reply(membership, _reply(membership, reply_id), note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sent back to the author with your note."))
    return redirect("replies:approvals", slug=slug)


@login_required
@require_POST
def retry(request: HttpRequest, slug: str, reply_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.SEND_REPLY)
    reply = _reply(membership, reply_id)
    try:
        actions.do_retry_reply(membership, reply)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("inbox:case", slug=slug, case_id=reply.case_id)


@login_required
@require_POST
def create_link(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.DRAFT_REPLY)
    case = case_in_workspace(membership.workspace, case_id)
    try:
        link = actions.do_create_short_link(membership, case, url=request.POST.get("url", ""))
    except ValidationError as exc:
        return render(request, "replies/_link.html", {"error": " ".join(exc.messages)}, status=422)
    return render(request, "replies/_link.html", {"link": link, "short": request.build_absolute_uri(f"/s/{link.code}")})


@require_GET
def follow_link(request: HttpRequest, code: str) -> HttpResponse:
    """Public redirect of a short link. Counting the click is the one write on a GET, by design."""
    link = ShortLink.objects.filter(code=code).first()
    if link is None:
        raise Http404
    ShortLink.objects.filter(pk=link.pk).update(clicks=F("clicks") + 1, last_click_at=timezone.now())
    # Only http(s) targets are ever stored (validated at creation), so this cannot become javascript:.
    return HttpResponseRedirect(link.target_url)


@login_required
@require_POST
def hand_off(request: HttpRequest, slug: str, case_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.HANDOFF)
    case = case_in_workspace(membership.workspace, case_id)
    try:
        handoff = actions.do_hand_off(
            membership, case, channel=request.POST.get("channel", ""), note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Handed off. Reference code: %(code)s") % {"code": handoff.code})
    return redirect("inbox:case", slug=slug, case_id=case.pk)


@login_required
@require_GET
def handoff_lookup(request: HttpRequest, slug: str) -> HttpResponse:
    """The call centre types the reference code the customer reads out and sees the whole history."""
    membership = access_membership(request.user, slug, Perm.VIEW_INBOX)
    code = request.GET.get("code", "").strip().upper()
    if code and not code.startswith("KZ-"):
        code = "KZ-" + code
    handoff = (
        Handoff.objects.select_related("case__author", "case__workspace")
        .filter(workspace=membership.workspace, code=code)
        .first()
        if code
        else None
    )
    context: dict[str, object] = {
        "membership": membership,
        "workspace": membership.workspace,
        "code": code,
        "handoff": handoff,
        "nav": "handoffs",
    }
    if handoff is not None:
        context.update(case_context(membership, handoff.case, handoff=handoff, nav="handoffs"))
    return render(request, "replies/handoff.html", context)


@login_required
@require_POST
def record_outcome(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.RECORD_OUTCOME)
    handoff = get_object_or_404(Handoff, workspace=membership.workspace, code=code)
    try:
        actions.do_record_outcome(membership, handoff, outcome=request.POST.get("outcome", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Outcome recorded on the case."))
    return redirect(f"{reverse('replies:handoffs', kwargs={'slug': slug})}?code={handoff.code}")
