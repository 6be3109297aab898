"""Reads for the inbox, always within one workspace."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from kizuna.accounts.models import Membership, Workspace
from kizuna.inbox.models import Case, CaseStatus, Intent
from kizuna.sources.models import Post

ACTIVE = [CaseStatus.NEW, CaseStatus.OPEN]
TABS = ("todo", "mine", "waiting", "noise", "closed", "all")


def tab_filter(tab: str, user: AbstractBaseUser) -> Q:
    """Return the condition that puts a case in an inbox tab."""
    not_noise = ~Q(intent=Intent.NOISE)
    return {
        "todo": Q(status__in=ACTIVE) & not_noise,
        "mine": Q(status__in=[*ACTIVE, CaseStatus.WAITING], assignee_id=user.pk),
        "waiting": Q(status=CaseStatus.WAITING),
        "noise": Q(status__in=ACTIVE, intent=Intent.NOISE),
        "closed": Q(status=CaseStatus.CLOSED),
        "all": Q(),
    }.get(tab, Q(status__in=ACTIVE) & not_noise)


def with_row_data(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Add what an inbox row shows (the latest customer post) without a query per row."""
    latest = Post.objects.filter(case=OuterRef("pk"), is_ours=False).order_by("-created_at").values("text")[:1]
    # Operators know each other by the name they sign with, not by login name.
    assignee_name = Membership.objects.filter(
        user_id=OuterRef("assignee_id"), workspace_id=OuterRef("workspace_id")
    ).values("display_name")[:1]
    return cases.select_related("author", "brand", "assignee", "department").annotate(
        latest_text=Subquery(latest), assignee_name=Subquery(assignee_name)
    )


def inbox_cases(workspace: Workspace, tab: str, user: AbstractBaseUser, limit: int = 100) -> QuerySet[Case]:
    """Return the cases of a tab, most recent activity first, with what a row shows."""
    cases = Case.objects.filter(workspace=workspace).filter(tab_filter(tab, user))
    return with_row_data(cases).order_by("-last_post_at")[:limit]


def tab_counts(workspace: Workspace, user: AbstractBaseUser) -> dict[str, int]:
    """Return how many cases each tab holds."""
    aggregates = {tab: Count("id", filter=tab_filter(tab, user)) for tab in TABS if tab != "all"}
    result: dict[str, int] = Case.objects.filter(workspace=workspace).aggregate(**aggregates)
    return result


def case_in_workspace(workspace: Workspace, case_id: int) -> Case:
    """Return a case of this workspace, or 404 (never another workspace's case)."""
    return get_object_or_404(with_row_data(Case.objects.select_related("workspace")), pk=case_id, workspace=workspace)


def first_post(case: Case) -> Post | None:
    """Return the post that opened the case."""
    return case.posts.order_by("created_at").first()


def author_other_posts(case: Case, limit: int = 20) -> list[Post]:
    """Return the author's posts outside this case, newest first (前後の投稿)."""
    return list(
        Post.objects.filter(workspace_id=case.workspace_id, author_id=case.author_id)
        .exclude(case=case)
        .order_by("-created_at")[:limit]
    )
