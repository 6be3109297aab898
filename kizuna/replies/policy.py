"""The posting policy applied to drafts: the workspace's [policy], its history, the operator's name."""

from __future__ import annotations

from kizuna.accounts.models import Membership, Workspace
from kizuna.core.policy import RULE_IDS, LintResult, Policy, lint
from kizuna.inbox.models import Case
from kizuna.replies.models import DELIVERED, Reply
from kizuna.sources.models import Post

LINTED_PLATFORMS = ("x", "bluesky", "mastodon")
HISTORY_SIZE = 300


def length_platform(post: Post) -> str:
    """Return whose length rules a reply to this post follows (demo and imports count as X)."""
    return post.platform if post.platform in LINTED_PLATFORMS else "x"


def workspace_policy(workspace: Workspace) -> Policy:
    """Return the workspace's policy (validated when the config was loaded).

    In crisis mode every rule blocks, warnings included: nothing slips out half-checked.
    """
    data = dict(workspace.policy or {})
    if workspace.crisis_mode:
        data["rules"] = dict.fromkeys(RULE_IDS, "block")
    return Policy.from_dict(data)


def recent_sent_texts(workspace: Workspace, *, exclude: int | None = None) -> list[str]:
    """Return the texts of the workspace's latest delivered replies, for the copy rule."""
    replies = Reply.objects.filter(workspace=workspace, status__in=DELIVERED)
    if exclude is not None:
        replies = replies.exclude(pk=exclude)
    return list(replies.order_by("-sent_at").values_list("text", flat=True)[:HISTORY_SIZE])


def reply_target(case: Case) -> Post | None:
    """Return the customer post a reply on this case answers: their latest."""
    return Post.objects.filter(case=case, is_ours=False).order_by("-created_at").select_related("source").first()


def lint_draft(membership: Membership, case: Case, text: str, *, exclude_reply: int | None = None) -> LintResult:
    """Lint a draft for this case as this member would send it."""
    target = reply_target(case)
    return lint(
        text,
        platform=length_platform(target) if target else "x",
        policy=workspace_policy(case.workspace),
        operator=membership.display_name,
        history=recent_sent_texts(case.workspace, exclude=exclude_reply),
    )
