"""Load a kizuna.toml into a workspace and dump a workspace back to it."""

from __future__ import annotations

from typing import Any

import tomli_w
from django.db import transaction

from kizuna.accounts.models import Workspace
from kizuna.brands.models import Brand, Department, Rule
from kizuna.core.config import (
    BrandSpec,
    ConfigError,
    DepartmentSpec,
    RouteSpec,
    RuleConfig,
    WorkspaceConfig,
    config_to_dict,
)
from kizuna.core.matcher import compile_rules
from kizuna.core.rules import RuleSpec, RuleSyntaxError


def check_rules(cfg: WorkspaceConfig, path: str) -> None:
    """Raise ConfigError if any rule query does not parse."""
    try:
        compile_rules([RuleSpec(r.id, r.query, r.brand) for r in cfg.rules])
    except RuleSyntaxError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


@transaction.atomic
def do_load_config(cfg: WorkspaceConfig, *, slug: str | None = None, path: str = "kizuna.toml") -> Workspace:
    """Create or update a workspace so it holds exactly what the config says.

    Brands, rules and departments missing from the file are removed; cases and posts stay.
    """
    check_rules(cfg, path)
    slug = slug or cfg.slug
    if not slug:
        raise ConfigError(f'{path}: [workspace] has no "slug" and no --workspace was given')
    ws, _ = Workspace.objects.get_or_create(slug=slug, defaults={"name": cfg.name or slug})
    if cfg.name:
        ws.name = cfg.name
    ws.own_accounts = list(cfg.own_accounts)
    ws.routing = [
        {"department": r.department, "intents": list(r.intents), "brands": list(r.brands), "keywords": list(r.keywords)}
        for r in cfg.routing
    ]
    ws.collection = cfg.collection
    ws.approval = cfg.approval
    ws.policy = cfg.policy
    ws.business_hours = cfg.business_hours
    ws.save()

    brands: dict[str, Brand] = {}
    for b in cfg.brands:
        brands[b.id], _ = Brand.objects.update_or_create(
            workspace=ws, key=b.id, defaults={"name": b.name, "aliases": list(b.aliases), "description": b.description}
        )
    Brand.objects.filter(workspace=ws).exclude(key__in=brands).delete()
    for d in cfg.departments:
        Department.objects.update_or_create(workspace=ws, key=d.id, defaults={"name": d.name, "email": d.email})
    Department.objects.filter(workspace=ws).exclude(key__in=[d.id for d in cfg.departments]).delete()
    for r in cfg.rules:
        Rule.objects.update_or_create(
            workspace=ws,
            key=r.id,
            defaults={"query": r.query, "brand": brands.get(r.brand or ""), "enabled": r.enabled},
        )
    Rule.objects.filter(workspace=ws).exclude(key__in=[r.id for r in cfg.rules]).delete()
    return ws


def workspace_config(ws: Workspace) -> WorkspaceConfig:
    """Return the configuration a workspace holds now."""
    return WorkspaceConfig(
        slug=ws.slug,
        name=ws.name,
        own_accounts=tuple(ws.own_accounts),
        brands=[BrandSpec(b.key, b.name, tuple(b.aliases), b.description) for b in ws.brands.all()],
        rules=[
            RuleConfig(r.key, r.query, r.brand.key if r.brand else None, r.enabled)
            for r in ws.rules.select_related("brand")
        ],
        departments=[DepartmentSpec(d.key, d.name, d.email) for d in ws.departments.all()],
        routing=[
            RouteSpec(
                r["department"], tuple(r.get("intents", ())), tuple(r.get("brands", ())), tuple(r.get("keywords", ()))
            )
            for r in ws.routing
        ],
        collection=dict(ws.collection),
        approval=dict(ws.approval),
        policy=dict(ws.policy),
        business_hours=dict(ws.business_hours),
    )


def _pairs(table: dict[str, Any]) -> str:
    return "".join(tomli_w.dumps({key: value}, multiline_strings=True) for key, value in table.items())


def to_toml(doc: dict[str, Any]) -> str:
    """Write a kizuna.toml document in its canonical shape: [table]s and [[array]]s of tables in
    the order given, one key per line (tomli_w alone would inline short tables at the top)."""
    sections: list[str] = []
    for name, value in doc.items():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            sections.extend(f"[[{name}]]\n{_pairs(item)}" for item in value)
        elif isinstance(value, dict):
            flat = {k: v for k, v in value.items() if not isinstance(v, dict)}
            sections.append(f"[{name}]\n{_pairs(flat)}")
            sections.extend(f"[{name}.{k}]\n{_pairs(v)}" for k, v in value.items() if isinstance(v, dict))
        elif not (isinstance(value, list) and not value):
            sections.append(_pairs({name: value}))
    return "\n".join(sections)


def dump_config(ws: Workspace) -> str:
    """Return the workspace as kizuna.toml text."""
    doc: dict[str, Any] = config_to_dict(workspace_config(ws))
    return to_toml(doc)
