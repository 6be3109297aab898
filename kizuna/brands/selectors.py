"""Reads for the rule editor: what a draft rule would collect from stored posts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from kizuna.accounts.models import Workspace
from kizuna.core.matcher import MatchInput, compile_rules
from kizuna.core.rules import RuleSpec, RuleSyntaxError
from kizuna.sources.models import Post

PREVIEW_DAYS = 7
PREVIEW_LIMIT = 50_000


@dataclass
class RulePreview:
    query: str
    error: RuleSyntaxError | None = None
    checked: int = 0
    matched: int = 0
    examples: list[Post] = field(default_factory=list)
    newly_excluded: list[Post] = field(default_factory=list)
    newly_included: int = 0
    newly_excluded_count: int = 0
    truncated: bool = False

    @property
    def error_parts(self) -> tuple[str, str, str]:
        """Split the query around the error position, to highlight where it went wrong."""
        if self.error is None:
            return (self.query, "", "")
        at = max(0, min(self.error.position, len(self.query)))
        return (self.query[:at], self.query[at : at + 1] or " ", self.query[at + 1 :])


def preview_rule(
    workspace: Workspace, query: str, *, current: str | None = None, rule_id: str = "draft", examples: int = 8
) -> RulePreview:
    """Match a draft query against the workspace's posts of the last 7 days.

    With `current` (the saved query), also list posts the change would stop collecting.
    """
    preview = RulePreview(query=query)
    if not query.strip():
        return preview
    try:
        draft = compile_rules([RuleSpec(rule_id, query)])
        saved = compile_rules([RuleSpec("saved", current)]) if current and current != query else None
    except RuleSyntaxError as exc:
        preview.error = exc
        return preview
    since = timezone.now() - timedelta(days=PREVIEW_DAYS)
    posts = list(
        Post.objects.filter(workspace=workspace, created_at__gte=since, is_ours=False)
        .select_related("author")
        .order_by("-created_at")[:PREVIEW_LIMIT]
    )
    preview.truncated = len(posts) == PREVIEW_LIMIT
    inputs = [MatchInput(p.text, p.lang or None, p.author.handle, p.is_repost, bool(p.in_reply_to)) for p in posts]
    now_hits = draft.match_many(inputs)
    before_hits = saved.match_many(inputs) if saved else now_hits
    preview.checked = len(posts)
    for post, now, before in zip(posts, now_hits, before_hits, strict=True):
        if now:
            preview.matched += 1
            if len(preview.examples) < examples:
                preview.examples.append(post)
            if not before:
                preview.newly_included += 1
        elif before:
            preview.newly_excluded_count += 1
            if len(preview.newly_excluded) < examples:
                preview.newly_excluded.append(post)
    return preview
