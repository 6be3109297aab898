"""Collection settings in the UI: the rule editor with live preview, backfill, noise review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kizuna.accounts.permissions import Perm
from kizuna.accounts.selectors import access_membership
from kizuna.brands import actions
from kizuna.brands.backfill import do_start_backfill
from kizuna.brands.models import BackfillJob, Rule
from kizuna.brands.selectors import PREVIEW_DAYS, preview_rule
from kizuna.inbox.audit import record_event
from kizuna.sources.models import Author, Exclusion, Post


def _ctx(membership: object, **extra: object) -> dict[str, object]:
    return {"membership": membership, "workspace": membership.workspace, "nav": "rules", **extra}  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def rule_list(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.MANAGE_RULES)
    ws = membership.workspace
    if request.method == "POST":
        try:
            rule = actions.do_save_rule(
                membership,
                None,
                key=request.POST.get("key", ""),
                query=request.POST.get("query", ""),
                brand_key=request.POST.get("brand", ""),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("Rule %(key)s created. Apply it to stored posts with a backfill.") % {"key": rule.key}
            )
            return redirect("brands:rule", slug=slug, key=rule.key)
    rules = Rule.objects.filter(workspace=ws).select_related("brand")
    return render(request, "brands/rules.html", _ctx(membership, rules=rules, brands=ws.brands.all()))


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.MANAGE_RULES)
    ws = membership.workspace
    rule = get_object_or_404(Rule.objects.select_related("brand"), workspace=ws, key=key)
    query = rule.query
    if request.method == "POST":
        query = request.POST.get("query", "")
        try:
            actions.do_save_rule(
                membership,
                rule,
                key=rule.key,
                query=query,
                brand_key=request.POST.get("brand", ""),
                enabled=request.POST.get("enabled") == "on",
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved. New posts are matched with the new query at once."))
            return redirect("brands:rule", slug=slug, key=rule.key)
    jobs = BackfillJob.objects.filter(rule=rule)[:5]
    return render(
        request,
        "brands/rule_edit.html",
        _ctx(
            membership,
            rule=rule,
            query=query,
            brands=ws.brands.all(),
            preview=preview_rule(ws, query, current=rule.query, rule_id=rule.key),
            jobs=jobs,
            days=PREVIEW_DAYS,
        ),
    )


@login_required
@require_GET
def rule_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The live preview under the editor (read-only, so GET)."""
    membership = access_membership(request.user, slug, Perm.MANAGE_RULES)
    current = None
    key = request.GET.get("key", "")
    if key:
        current = Rule.objects.filter(workspace=membership.workspace, key=key).values_list("query", flat=True).first()
    preview = preview_rule(membership.workspace, request.GET.get("query", ""), current=current, rule_id=key or "draft")
    return render(request, "brands/_preview.html", _ctx(membership, preview=preview, days=PREVIEW_DAYS))


@login_required
@require_POST
def backfill_start(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.MANAGE_RULES)
    rule = get_object_or_404(Rule, workspace=membership.workspace, key=key)
    try:
        days = max(1, min(90, int(request.POST.get("days", "7"))))
    except ValueError:
        days = 7
    job = do_start_backfill(rule, days=days, user_id=membership.user_id)
    record_event(
        membership.workspace, "rule.backfill_started", actor=membership.user, rule=rule.key, job=job.pk, days=days
    )
    messages.success(request, _("Backfill queued: %(n)d stored posts will be checked.") % {"n": job.total})
    return redirect("brands:rule", slug=slug, key=rule.key)


@login_required
@require_GET
def backfill_progress(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.MANAGE_RULES)
    job = get_object_or_404(BackfillJob.objects.select_related("rule"), workspace=membership.workspace, pk=job_id)
    return render(request, "brands/_backfill.html", _ctx(membership, job=job))


@login_required
@require_GET
def exclusions(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.MANAGE_RULES)
    reason = request.GET.get("reason", "")
    posts = Post.objects.filter(workspace=membership.workspace).exclude(exclusion="").select_related("author")
    if reason in Exclusion.values:
        posts = posts.filter(exclusion=reason)
    return render(
        request,
        "brands/exclusions.html",
        _ctx(
            membership,
            posts=posts.order_by("-created_at")[:200],
            reasons=Exclusion.choices,
            reason=reason,
            blocked=membership.workspace.collection.get("blocked_authors", []),
            nav="exclusions",
        ),
    )


@login_required
@require_POST
def restore_post(request: HttpRequest, slug: str, post_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.MANAGE_RULES)
    post = get_object_or_404(Post, workspace=membership.workspace, pk=post_id)
    try:
        case = actions.do_restore_post(membership, post)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("brands:exclusions", slug=slug)
    messages.success(request, _("A case was opened for the excluded post."))
    return redirect("inbox:case", slug=slug, case_id=case.pk)


@login_required
@require_POST
def block_author(request: HttpRequest, slug: str, author_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.MANAGE_RULES)
    author = get_object_or_404(Author, workspace=membership.workspace, pk=author_id)
    actions.do_block_author(membership, author)
    messages.success(
        request, _("@%(handle)s is on the block list: their posts no longer open cases.") % {"handle": author.handle}
    )
    return redirect("brands:exclusions", slug=slug)
