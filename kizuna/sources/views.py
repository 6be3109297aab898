"""Sources in the UI (health, set-up, credentials) and the inbound webhook."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.accounts.permissions import Perm, role_has
from kizuna.accounts.selectors import access_membership
from kizuna.core.posts import PayloadError
from kizuna.pipeline.ingest import ingest, quarantine
from kizuna.sources import actions
from kizuna.sources.models import Platform, Source
from kizuna.sources.registry import FIELDS
from kizuna.sources.webhook.verify import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    parse_webhook_body,
    verify_signature,
)


def _lag_seconds(source: Source) -> int | None:
    return int((timezone.now() - source.last_post_at).total_seconds()) if source.last_post_at else None


@login_required
@require_http_methods(["GET", "POST"])
def source_list(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.VIEW_QUARANTINE)
    ws = membership.workspace
    if request.method == "POST":
        try:
            source, secret = actions.do_create_source(
                membership,
                platform=request.POST.get("platform", ""),
                name=request.POST.get("name", ""),
                handle=request.POST.get("handle", ""),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if secret:
                request.session["webhook_secret"] = {"source": source.pk, "secret": secret}
            return redirect("sources:detail", slug=slug, source_id=source.pk)
    sources = list(Source.objects.filter(workspace=ws).order_by("platform", "name"))
    for source in sources:
        source.lag = _lag_seconds(source)  # type: ignore[attr-defined]
    return render(
        request,
        "sources/list.html",
        {
            "membership": membership,
            "workspace": ws,
            "sources": sources,
            "platforms": [(p, label) for p, label in Platform.choices if p in actions.CONFIGURABLE],
            "can_manage": role_has(membership.role, Perm.MANAGE_CONFIG),
            "nav": "sources",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def source_detail(request: HttpRequest, slug: str, source_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.VIEW_QUARANTINE)
    source = get_object_or_404(Source, workspace=membership.workspace, pk=source_id)
    if request.method == "POST":
        membership = access_membership(request.user, slug, Perm.MANAGE_CONFIG)
        values = {key: request.POST.get(key, "") for key, _label, _secret in FIELDS.get(source.platform, [])}
        try:
            actions.do_configure_source(membership, source, values=values, enabled=request.POST.get("enabled") == "on")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved. Secrets are stored encrypted and are not shown again."))
        return redirect("sources:detail", slug=slug, source_id=source.pk)
    shown_secret = request.session.pop("webhook_secret", None)
    if shown_secret and shown_secret.get("source") != source.pk:
        shown_secret = None
    for quota in source.quotas:
        if quota.get("limit"):
            quota["left"] = max(0, int(quota["limit"]) - int(quota.get("used", 0)))
    untranslated: list[str] = []
    if source.platform == Platform.X:
        from kizuna.brands.models import Rule
        from kizuna.sources.worker import x_queries

        translated = x_queries(source)
        untranslated = [
            r
            for r in Rule.objects.filter(workspace_id=source.workspace_id, enabled=True).values_list("key", flat=True)
            if r not in translated
        ]
    credentials = source.get_credentials()
    fields = [
        {
            "key": key,
            "label": label,
            "secret": secret,
            "is_set": bool(credentials.get(key)) if secret else False,
            "value": (
                "\n".join(source.settings.get(key, []))
                if key == "feeds"
                else source.settings.get(key, "")
                if not secret
                else ""
            ),
        }
        for key, label, secret in FIELDS.get(source.platform, [])
    ]
    return render(
        request,
        "sources/detail.html",
        {
            "membership": membership,
            "workspace": membership.workspace,
            "source": source,
            "fields": fields,
            "lag": _lag_seconds(source),
            "webhook_url": request.build_absolute_uri(f"/hooks/{source.pk}/"),
            "shown_secret": shown_secret["secret"] if shown_secret else "",
            "untranslated": untranslated,
            "can_manage": role_has(membership.role, Perm.MANAGE_CONFIG),
            "nav": "sources",
        },
    )


@login_required
@require_POST
def test_connection(request: HttpRequest, slug: str, source_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.MANAGE_CONFIG)
    source = get_object_or_404(Source, workspace=membership.workspace, pk=source_id)
    try:
        message = actions.do_test_connection(membership, source)
    except ValidationError as exc:
        messages.error(request, _("Connection failed: %(error)s") % {"error": " ".join(exc.messages)})
    else:
        messages.success(request, _("Connected: %(account)s") % {"account": message})
    return redirect("sources:detail", slug=slug, source_id=source.pk)


@login_required
@require_POST
def rotate_secret(request: HttpRequest, slug: str, source_id: int) -> HttpResponse:
    membership = access_membership(request.user, slug, Perm.MANAGE_CONFIG)
    source = get_object_or_404(Source, workspace=membership.workspace, pk=source_id)
    try:
        secret = actions.do_rotate_webhook_secret(membership, source)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        request.session["webhook_secret"] = {"source": source.pk, "secret": secret}
    return redirect("sources:detail", slug=slug, source_id=source.pk)


@csrf_exempt  # authenticated by the HMAC signature, not a browser session
@require_POST
def webhook(request: HttpRequest, source_id: int) -> HttpResponse:
    """Posts pushed by another tool, signed with the source's secret (see sources/webhook/verify.py)."""
    source = Source.objects.select_related("workspace").filter(pk=source_id, platform=Platform.WEBHOOK).first()
    if source is None or not source.enabled:
        return JsonResponse({"error": "no such webhook"}, status=404)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return JsonResponse({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status=413)
    try:
        verify_signature(
            secret=str(source.get_credentials().get("secret", "")),
            body=body,
            signature=request.headers.get(SIGNATURE_HEADER),
            timestamp=request.headers.get(TIMESTAMP_HEADER),
        )
    except SignatureError as exc:
        return JsonResponse({"error": str(exc)}, status=401)
    items, bad_payloads = parse_webhook_body(body)
    counts = {"new": 0, "duplicate": 0, "quarantined": 0}
    errors = []
    bad = iter(bad_payloads)
    for n, item in enumerate(items, 1):
        if isinstance(item, PayloadError):
            quarantine(
                source.workspace,
                origin=f"webhook {source.name} item {n}",
                reason=str(item),
                payload=next(bad, ""),
                source=source,
            )
            counts["quarantined"] += 1
            errors.append({"item": n, "reason": str(item)})
            continue
        result = ingest(source.workspace, item, source=source)
        counts[result.outcome] += 1
    status = 200 if not errors else 207
    return HttpResponse(
        json.dumps({**counts, "errors": errors}, ensure_ascii=False), status=status, content_type="application/json"
    )
