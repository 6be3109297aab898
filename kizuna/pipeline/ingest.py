"""The flow of one post: match → triage → persist idempotently → open or attach a case.

Same code for every runner (embedded thread, import command, later NATS workers). Each call
handles one post in its own transaction, so a poison payload never takes others with it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q

from kizuna.accounts.models import Workspace
from kizuna.brands.models import Brand, Department, Rule
from kizuna.core.matcher import Matcher, MatchInput, compile_rules
from kizuna.core.noise import CollectionSettings, exclusion_reason, text_fingerprint
from kizuna.core.normalize import normalize_handle
from kizuna.core.posts import IncomingPost
from kizuna.core.routing import route_department
from kizuna.core.rules import RuleSpec, RuleSyntaxError
from kizuna.inbox.audit import record_event
from kizuna.inbox.models import Case, CaseStatus, CloseReason
from kizuna.pipeline.models import QuarantinedPayload
from kizuna.sources.models import Author, Exclusion, Post, Source
from kizuna.triage.service import decide

log = logging.getLogger("kizuna.pipeline")

# A new post by the same person within this window joins their open case (one conversation).
SAME_CONVERSATION = timedelta(hours=24)

Outcome = Literal["new", "duplicate", "quarantined"]


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    post_id: int | None = None
    case_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class _CompiledRules:
    signature: tuple[object, ...]
    matcher: Matcher
    brand_of_rule: dict[str, int | None]


_cache: dict[int, _CompiledRules] = {}
_cache_lock = threading.Lock()


def workspace_matcher(workspace: Workspace) -> _CompiledRules:
    """Return the compiled rules of a workspace, recompiled when any rule changed (no restart)."""
    rules = Rule.objects.filter(workspace=workspace, enabled=True)
    agg = rules.aggregate(n=Count("id"), latest=Max("updated_at"), maxid=Max("id"))
    signature = (agg["n"], agg["latest"], agg["maxid"])
    with _cache_lock:
        cached = _cache.get(workspace.pk)
        if cached and cached.signature == signature:
            return cached
    specs, brand_of_rule = [], {}
    for rule in rules:
        specs.append(RuleSpec(rule.key, rule.query, None))
        brand_of_rule[rule.key] = rule.brand_id
    try:
        matcher = compile_rules(specs)
    except RuleSyntaxError:
        # A broken rule must not stop collection: skip it, compile the rest, and say so.
        log.exception("workspace %s: a rule does not parse; matching without it", workspace.slug)
        good = []
        for spec in specs:
            try:
                compile_rules([spec])
                good.append(spec)
            except RuleSyntaxError:
                continue
        matcher = compile_rules(good)
    compiled = _CompiledRules(signature, matcher, brand_of_rule)
    with _cache_lock:
        _cache[workspace.pk] = compiled
    return compiled


def quarantine(
    workspace: Workspace, *, origin: str, reason: str, payload: str, source: Source | None = None
) -> IngestResult:
    """Keep a payload the pipeline cannot take, with the reason; a repeat is counted once."""
    digest = hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()
    with transaction.atomic():
        item, created = QuarantinedPayload.objects.get_or_create(
            workspace=workspace,
            digest=digest,
            defaults={"origin": origin[:300], "reason": reason, "payload": payload, "source": source},
        )
        if not created:
            QuarantinedPayload.objects.filter(pk=item.pk).update(seen_count=item.seen_count + 1)
    log.warning("quarantined %s: %s", origin, reason)
    return IngestResult("quarantined", reason=reason)


def _upsert_author(workspace: Workspace, incoming: IncomingPost) -> Author:
    author, created = Author.objects.get_or_create(
        workspace=workspace,
        platform=incoming.platform,
        handle=incoming.author_handle,
        defaults={"display_name": incoming.author_display_name, "followers_count": incoming.author_followers},
    )
    if not created and (
        (incoming.author_followers and author.followers_count != incoming.author_followers)
        or (incoming.author_display_name and author.display_name != incoming.author_display_name)
    ):
        author.followers_count = incoming.author_followers or author.followers_count
        author.display_name = incoming.author_display_name or author.display_name
        author.save(update_fields=["followers_count", "display_name", "updated_at"])
    return author


def own_accounts_of(workspace: Workspace, source: Source | None) -> set[str]:
    ours = {normalize_handle(h) for h in workspace.own_accounts}
    if source and source.handle:
        ours.add(normalize_handle(source.handle))
    if source and source.settings.get("did"):
        ours.add(normalize_handle(str(source.settings["did"])))
    return ours


def ingest(workspace: Workspace, incoming: IncomingPost, *, source: Source | None = None) -> IngestResult:
    """Run one parsed post through the pipeline; idempotent on (platform, platform post id)."""
    if Post.objects.filter(
        workspace=workspace, platform=incoming.platform, platform_post_id=incoming.platform_post_id
    ).exists():
        return IngestResult("duplicate")
    compiled = workspace_matcher(workspace)
    try:
        with transaction.atomic():
            return _persist(workspace, incoming, source, compiled)
    except IntegrityError:
        # Another worker stored the same post between our check and our insert.
        if Post.objects.filter(
            workspace=workspace, platform=incoming.platform, platform_post_id=incoming.platform_post_id
        ).exists():
            return IngestResult("duplicate")
        raise


def _persist(
    workspace: Workspace, incoming: IncomingPost, source: Source | None, compiled: _CompiledRules
) -> IngestResult:
    author = _upsert_author(workspace, incoming)
    own_accounts = own_accounts_of(workspace, source)
    ours = normalize_handle(incoming.author_handle) in own_accounts
    parent = None
    if incoming.in_reply_to:
        parent = (
            Post.objects.filter(workspace=workspace, platform=incoming.platform, platform_post_id=incoming.in_reply_to)
            .select_related("case")
            .first()
        )
    thread_id = parent.thread_id if parent and parent.thread_id else incoming.thread_id or incoming.platform_post_id
    matched = compiled.matcher.match(
        MatchInput(
            text=incoming.text,
            lang=incoming.lang or None,
            author=incoming.author_handle,
            is_repost=incoming.is_repost,
            is_reply=bool(incoming.in_reply_to),
        )
    )
    post = Post.objects.create(
        workspace=workspace,
        source=source,
        platform=incoming.platform,
        platform_post_id=incoming.platform_post_id,
        author=author,
        text=incoming.text,
        created_at=incoming.created_at,
        url=incoming.url,
        lang=incoming.lang,
        in_reply_to=incoming.in_reply_to,
        thread_id=thread_id,
        is_repost=incoming.is_repost,
        is_ours=ours,
        matched_rules=matched,
        text_hash=text_fingerprint(incoming.text),
        raw=incoming.raw,
    )
    if source is not None:
        Source.objects.filter(pk=source.pk).update(last_post_at=incoming.created_at)
    if ours:
        # Our own reply seen on the platform: context for the case it answers, never a new case.
        case_id = parent.case_id if parent else None
        Post.objects.filter(pk=post.pk).update(
            case_id=case_id,
            exclusion=Exclusion.OWN_ACCOUNT if matched else "",
            exclusion_detail=f"@{incoming.author_handle} is one of our accounts" if matched else "",
        )
        return IngestResult("new", post.pk, case_id)

    brand_id = next((compiled.brand_of_rule[r] for r in matched if compiled.brand_of_rule.get(r)), None)
    case = _conversation_case(workspace, post, parent, matched=bool(matched), brand_id=brand_id)
    if case is None:
        if not matched:
            # Not ours to answer: kept for the author's context (前後の投稿), no case.
            return IngestResult("new", post.pk)
        excluded = record_exclusion(workspace, post, own_accounts)
        if excluded is not None:
            return IngestResult("new", post.pk, reason=excluded)
        case = open_case(workspace, post, matched)
    else:
        _attach(case, post)
    Post.objects.filter(pk=post.pk).update(case=case)
    return IngestResult("new", post.pk, case.pk)


def record_exclusion(workspace: Workspace, post: Post, own_accounts: set[str]) -> str | None:
    """Record why a matched post opens no case (noise filters), or return None."""
    settings = CollectionSettings.from_dict(workspace.collection)
    since = post.created_at - timedelta(minutes=settings.burst_window_minutes)
    others = (
        Post.objects.filter(workspace=workspace, text_hash=post.text_hash, created_at__gte=since)
        .exclude(author_id=post.author_id)
        .values("author_id")
        .distinct()
        .count()
    )
    decision = exclusion_reason(
        is_repost=post.is_repost,
        author=post.author.handle,
        own_accounts=own_accounts,
        settings=settings,
        other_authors_same_text=others,
    )
    if decision is None:
        return None
    reason, detail = decision
    Post.objects.filter(pk=post.pk).update(exclusion=reason, exclusion_detail=detail[:300])
    if reason == Exclusion.CAMPAIGN_BURST:
        _close_burst_cases(workspace, post.text_hash, since, detail)
    return reason


def _close_burst_cases(workspace: Workspace, text_hash: str, since: datetime, detail: str) -> None:
    """Close the untouched cases the campaign text already opened, so it stops flooding the inbox."""
    posts = Post.objects.filter(workspace=workspace, text_hash=text_hash, created_at__gte=since, case__isnull=False)
    for case in Case.objects.select_for_update().filter(pk__in=posts.values("case_id"), status=CaseStatus.NEW):
        case.status = CaseStatus.CLOSED
        case.close_reason = CloseReason.SPAM
        case.close_note = detail
        case.save(update_fields=["status", "close_reason", "close_note", "updated_at"])
        record_event(workspace, "case.closed", case=case, reason=CloseReason.SPAM, note=detail, automatic=True)
    posts.filter(exclusion="").update(exclusion=Exclusion.CAMPAIGN_BURST, exclusion_detail=detail[:300])


def _conversation_case(
    workspace: Workspace, post: Post, parent: Post | None, *, matched: bool, brand_id: int | None
) -> Case | None:
    """Find the case this post continues: same thread, or (if it is about us) the same person's recent open case."""
    author, thread_id = post.author, post.thread_id
    if parent is not None and parent.case_id is not None:
        case = Case.objects.select_for_update().filter(pk=parent.case_id, author=author).first()
        if case is not None or parent.is_ours:
            # A customer answering our reply lands in the case we replied in.
            return case or Case.objects.select_for_update().filter(pk=parent.case_id).first()
    by_thread = Case.objects.select_for_update().filter(workspace=workspace, author=author, thread_id=thread_id).first()
    if by_thread is not None:
        return by_thread
    if parent is not None or not matched:
        return None
    recent = Case.objects.select_for_update().filter(
        workspace=workspace,
        author=author,
        status__in=[CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING],
        last_post_at__gte=post.created_at - SAME_CONVERSATION,
    )
    if brand_id is not None:
        # The same person on another of our brands is another conversation.
        recent = recent.filter(Q(brand_id=brand_id) | Q(brand__isnull=True))
    return recent.order_by("-last_post_at").first()


def open_case(workspace: Workspace, post: Post, matched: list[str], *, via: str = "pipeline") -> Case:
    """Triage a stored post and open a case for it (the post joins the case).

    Used by the pipeline, by backfill and when a supervisor restores an excluded post.
    """
    compiled = workspace_matcher(workspace)
    brand_id = next((compiled.brand_of_rule[r] for r in matched if compiled.brand_of_rule.get(r)), None)
    brand = Brand.objects.filter(pk=brand_id).first() if brand_id else None
    context = list(
        Post.objects.filter(workspace=workspace, thread_id=post.thread_id, created_at__lt=post.created_at)
        .order_by("created_at")
        .values_list("text", flat=True)[:10]
    )
    decision = decide(
        workspace, text=post.text, context=context, brand=brand, followers=post.author.followers_count, lang=post.lang
    )
    intent, response, risk = decision.intent.value, decision.response.value, decision.risk.value
    dept_key = route_department(workspace.routing, intent=intent, brand=brand.key if brand else None, text=post.text)
    department = Department.objects.filter(workspace=workspace, key=dept_key).first() if dept_key else None
    case = Case.objects.create(
        workspace=workspace,
        author=post.author,
        brand=brand,
        thread_id=post.thread_id,
        intent=intent,
        response=response,
        risk=risk,
        department=department,
        confidence=decision.intent.confidence,
        reasons=list(decision.reasons),
        triage_model=decision.model_version,
        last_post_at=post.created_at,
    )
    Post.objects.filter(pk=post.pk).update(case=case)
    record_event(
        workspace,
        "case.opened",
        case=case,
        post_id=post.pk,
        rules=matched,
        intent=intent,
        risk=risk,
        via=via,
    )
    return case


def _attach(case: Case, post: Post) -> None:
    reopened = case.status in (CaseStatus.WAITING, CaseStatus.CLOSED)
    if reopened:
        # The customer answered: back to the same operator if there is one.
        case.status = CaseStatus.OPEN if case.assignee_id else CaseStatus.NEW
        case.close_reason = ""
    case.last_post_at = max(case.last_post_at, post.created_at)
    case.save(update_fields=["status", "close_reason", "last_post_at", "updated_at"])
    record_event(case.workspace, "case.reopened" if reopened else "case.post_added", case=case, post_id=post.pk)
