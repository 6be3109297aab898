"""Writes for rules, the block list and excluded posts. Each checks permission and audits."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.accounts.models import Membership, Workspace
from kizuna.accounts.permissions import Perm, role_has
from kizuna.brands.models import Brand, Rule
from kizuna.core.config import KEY_RE
from kizuna.core.normalize import normalize_handle
from kizuna.core.rules import RuleSyntaxError, parse_rule
from kizuna.inbox.audit import record_event
from kizuna.inbox.models import Case
from kizuna.pipeline.ingest import open_case
from kizuna.sources.models import Author, Post


def _check(membership: Membership, workspace_id: int) -> None:
    if membership.workspace_id != workspace_id or not role_has(membership.role, Perm.MANAGE_RULES):
        raise PermissionDenied


@transaction.atomic
def do_save_rule(
    membership: Membership, rule: Rule | None, *, key: str, query: str, brand_key: str, enabled: bool = True
) -> Rule:
    """Create or update a keyword rule; the running pipeline picks it up without a restart."""
    ws = membership.workspace
    _check(membership, ws.pk)
    key = key.strip()
    if rule is None and not KEY_RE.match(key):
        raise ValidationError(_("The id must be lower-case letters, digits, - or _ (at most 64)."))
    if rule is None and Rule.objects.filter(workspace=ws, key=key).exists():
        raise ValidationError(_("A rule with this id already exists."))
    try:
        parse_rule(key or (rule.key if rule else "rule"), query)
    except RuleSyntaxError as exc:
        raise ValidationError(exc.message) from exc
    brand = Brand.objects.filter(workspace=ws, key=brand_key).first() if brand_key else None
    if brand_key and brand is None:
        raise ValidationError(_("Unknown brand."))
    before = (
        {"query": rule.query, "enabled": rule.enabled, "brand": rule.brand.key if rule.brand else None}
        if rule
        else None
    )
    if rule is None:
        rule = Rule.objects.create(workspace=ws, key=key, query=query, brand=brand, enabled=enabled)
    else:
        rule.query, rule.brand, rule.enabled = query, brand, enabled
        rule.save()
    record_event(
        ws,
        "rule.updated" if before else "rule.created",
        actor=membership.user,
        rule=rule.key,
        query=query,
        enabled=enabled,
        before=before,
    )
    return rule


@transaction.atomic
def do_block_author(membership: Membership, author: Author) -> None:
    """Put an author on the workspace's block list: their posts no longer open cases."""
    _check(membership, author.workspace_id)
    ws = Workspace.objects.select_for_update().get(pk=author.workspace_id)
    blocked = list(ws.collection.get("blocked_authors", []))
    if normalize_handle(author.handle) not in {normalize_handle(b) for b in blocked}:
        blocked.append(author.handle)
        ws.collection = {**ws.collection, "blocked_authors": blocked}
        ws.save(update_fields=["collection"])
    record_event(ws, "author.blocked", actor=membership.user, author=author.handle, platform=author.platform)


@transaction.atomic
def do_restore_post(membership: Membership, post: Post) -> Case:
    """Open a case for a post the noise filters excluded (a supervisor overrules the filter)."""
    _check(membership, post.workspace_id)
    post = Post.objects.select_for_update(of=("self",)).select_related("author", "workspace").get(pk=post.pk)
    if post.case_id is not None:
        raise ValidationError(_("This post is already in a case."))
    reason = post.exclusion
    post.exclusion, post.exclusion_detail = "", ""
    post.save(update_fields=["exclusion", "exclusion_detail"])
    case = open_case(post.workspace, post, list(post.matched_rules), via=f"restored:{reason}")
    record_event(post.workspace, "post.restored", case=case, actor=membership.user, post_id=post.pk, exclusion=reason)
    return case
