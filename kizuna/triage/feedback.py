"""Operators' decisions as labelled examples: the team teaches triage by doing its job."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from kizuna.inbox.models import Case
from kizuna.sources.models import Post
from kizuna.triage.models import TriageFeedback


def record_feedback(
    case: Case, kind: str, *, actor: AbstractBaseUser | None = None, **labels: str
) -> TriageFeedback | None:
    """Store the case's first customer post with the labels a decision implies."""
    first = Post.objects.filter(case=case, is_ours=False).order_by("created_at").select_related("author").first()
    if first is None:
        return None
    context = list(
        Post.objects.filter(workspace_id=case.workspace_id, thread_id=first.thread_id, created_at__lt=first.created_at)
        .order_by("created_at")
        .values_list("text", flat=True)[:5]
    )
    return TriageFeedback.objects.create(
        workspace_id=case.workspace_id,
        case=case,
        kind=kind,
        text=first.text,
        context=context,
        brand=case.brand.key if case.brand else "",
        author_followers=first.author.followers_count,
        predicted={
            "intent": case.intent,
            "response": case.response,
            "risk": case.risk,
            "department": case.department.key if case.department else "",
            "model": case.triage_model,
        },
        actor_id=actor.pk if actor else None,
        **labels,
    )
