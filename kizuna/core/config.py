"""The kizuna.toml shape: parse and validate a workspace's configuration as plain data.

No Django here: `kizuna match` and `kizuna triage` read the same file without a database.
Errors name the file, the table and the field, e.g.
``kizuna.toml: [[rules]] #3 (id "x"): brand "foo" is not defined in [[brands]]``.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_RE = re.compile(r"^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")


class ConfigError(ValueError):
    """A kizuna.toml that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class BrandSpec:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RuleConfig:
    id: str
    query: str
    brand: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class DepartmentSpec:
    id: str
    name: str
    email: str = ""


@dataclass(frozen=True)
class RouteSpec:
    """Send cases matching all given conditions to a department (first match wins)."""

    department: str
    intents: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass
class WorkspaceConfig:
    slug: str = ""
    name: str = ""
    own_accounts: tuple[str, ...] = ()
    brands: list[BrandSpec] = field(default_factory=list)
    rules: list[RuleConfig] = field(default_factory=list)
    departments: list[DepartmentSpec] = field(default_factory=list)
    routing: list[RouteSpec] = field(default_factory=list)
    collection: dict[str, Any] = field(default_factory=dict)
    approval: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    business_hours: dict[str, Any] = field(default_factory=dict)


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, msg: str) -> ConfigError:
        return ConfigError(f"{self.where}: {msg}")

    def str_(self, table: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
        if key not in table:
            if required:
                raise self.fail(f'missing "{key}"')
            return default
        value = table[key]
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(f'"{key}" must be a non-empty string, got {value!r}')
        return value

    def key(self, table: dict[str, Any], key: str = "id") -> str:
        value = self.str_(table, key)
        if not KEY_RE.match(value):
            raise self.fail(f'"{key}" = {value!r} must be lower-case letters, digits, "-" or "_" (max 64)')
        return value

    def str_list(self, table: dict[str, Any], key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f'"{key}" must be a list of strings, got {value!r}')
        return tuple(value)


def _tables(doc: dict[str, Any], name: str, path: str) -> list[dict[str, Any]]:
    value = doc.get(name, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ConfigError(f"{path}: [[{name}]] must be an array of tables")
    return value


def parse_config(doc: dict[str, Any], path: str = "kizuna.toml", *, rules_only: bool = False) -> WorkspaceConfig:
    """Validate a parsed TOML document into a WorkspaceConfig.

    With rules_only, only [[rules]] is read and a rule's brand need not be defined
    (the `kizuna match --rules` contract).
    """
    cfg = WorkspaceConfig()
    ws = doc.get("workspace", {})
    if not isinstance(ws, dict):
        raise ConfigError(f"{path}: [workspace] must be a table")
    r = _Reader(f"{path}: [workspace]")
    cfg.slug = r.str_(ws, "slug", required=False)
    cfg.name = r.str_(ws, "name", required=False)
    cfg.own_accounts = tuple(a.lstrip("@") for a in r.str_list(ws, "own_accounts"))

    if not rules_only:
        for i, t in enumerate(_tables(doc, "brands", path), 1):
            r = _Reader(f"{path}: [[brands]] #{i}")
            bid = r.key(t)
            r = _Reader(f'{path}: [[brands]] #{i} (id "{bid}")')
            cfg.brands.append(
                BrandSpec(bid, r.str_(t, "name"), r.str_list(t, "aliases"), r.str_(t, "description", required=False))
            )
    brand_ids = {b.id for b in cfg.brands}
    _no_duplicates([b.id for b in cfg.brands], f"{path}: [[brands]]")

    for i, t in enumerate(_tables(doc, "rules", path), 1):
        r = _Reader(f"{path}: [[rules]] #{i}")
        # A rules file for `kizuna match` may use any id; a workspace's ids appear in URLs.
        rid = r.str_(t, "id") if rules_only else r.key(t)
        r = _Reader(f'{path}: [[rules]] #{i} (id "{rid}")')
        brand = r.str_(t, "brand", required=False) or None
        if brand and not rules_only and brand not in brand_ids:
            raise r.fail(f'brand "{brand}" is not defined in [[brands]]')
        enabled = t.get("enabled", True)
        if not isinstance(enabled, bool):
            raise r.fail('"enabled" must be true or false')
        cfg.rules.append(RuleConfig(rid, r.str_(t, "query"), brand, enabled))
    _no_duplicates([x.id for x in cfg.rules], f"{path}: [[rules]]")
    if rules_only:
        return cfg

    for i, t in enumerate(_tables(doc, "departments", path), 1):
        r = _Reader(f"{path}: [[departments]] #{i}")
        did = r.key(t)
        r = _Reader(f'{path}: [[departments]] #{i} (id "{did}")')
        cfg.departments.append(DepartmentSpec(did, r.str_(t, "name"), r.str_(t, "email", required=False)))
    _no_duplicates([d.id for d in cfg.departments], f"{path}: [[departments]]")
    dept_ids = {d.id for d in cfg.departments}

    for i, t in enumerate(_tables(doc, "routing", path), 1):
        r = _Reader(f"{path}: [[routing]] #{i}")
        dept = r.str_(t, "department")
        if dept not in dept_ids:
            raise r.fail(f'department "{dept}" is not defined in [[departments]]')
        brands = r.str_list(t, "brands")
        for b in brands:
            if b not in brand_ids:
                raise r.fail(f'brand "{b}" is not defined in [[brands]]')
        cfg.routing.append(RouteSpec(dept, r.str_list(t, "intents"), brands, r.str_list(t, "keywords")))

    cfg.collection = _parse_collection(doc.get("collection", {}), path)
    cfg.approval = _parse_approval(doc.get("approval", {}), path, brand_ids)

    policy = doc.get("policy", {})
    if not isinstance(policy, dict):
        raise ConfigError(f"{path}: [policy] must be a table")
    from kizuna.core.policy import Policy, PolicyError

    try:
        Policy.from_dict(policy)
    except PolicyError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    cfg.policy = policy

    hours = doc.get("business_hours", {})
    if not isinstance(hours, dict):
        raise ConfigError(f"{path}: [business_hours] must be a table")
    for day in DAYS:
        value = hours.get(day)
        if value is not None and value != "closed" and not (isinstance(value, str) and HOURS_RE.match(value)):
            raise ConfigError(f'{path}: [business_hours] {day} = {value!r}: expected "HH:MM-HH:MM" or "closed"')
    unknown = set(hours) - set(DAYS) - {"timezone", "holidays"}
    if unknown:
        raise ConfigError(f"{path}: [business_hours] unknown keys: {', '.join(sorted(unknown))}")
    cfg.business_hours = hours
    return cfg


def _parse_collection(table: object, path: str) -> dict[str, Any]:
    where = f"{path}: [collection]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    known = {"include_reposts", "burst_authors", "burst_window_minutes", "blocked_authors"}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"{where} unknown keys: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    if "include_reposts" in table and not isinstance(table["include_reposts"], bool):
        raise ConfigError(f"{where} include_reposts must be true or false")
    for key, low in (("burst_authors", 0), ("burst_window_minutes", 1)):
        value = table.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
            raise ConfigError(f"{where} {key} must be an integer >= {low}, got {value!r}")
    blocked = _Reader(where).str_list(table, "blocked_authors")
    out = dict(table)
    if "blocked_authors" in table:
        out["blocked_authors"] = [b.lstrip("@") for b in blocked]
    return out


INTENTS = ("praise", "question", "defect", "staff", "urgent", "delivery", "request", "complaint", "mention", "noise")


def _parse_approval(table: object, path: str, brand_ids: set[str]) -> dict[str, Any]:
    """Validate [approval]: which replies wait for a supervisor (a trainee's always do)."""
    where = f"{path}: [approval]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    known = {"all_replies", "high_risk", "intents", "brands"}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"{where} unknown keys: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    for key in ("all_replies", "high_risk"):
        if key in table and not isinstance(table[key], bool):
            raise ConfigError(f"{where} {key} must be true or false")
    reader = _Reader(where)
    for intent in reader.str_list(table, "intents"):
        if intent not in INTENTS:
            raise ConfigError(f'{where} intents: unknown intent "{intent}" (expected one of {", ".join(INTENTS)})')
    for brand in reader.str_list(table, "brands"):
        if brand not in brand_ids:
            raise ConfigError(f'{where} brands: brand "{brand}" is not defined in [[brands]]')
    return dict(table)


def _no_duplicates(ids: list[str], where: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ConfigError(f'{where}: id "{i}" is defined twice')
        seen.add(i)


def load_config_file(path: str | os.PathLike[str], *, rules_only: bool = False) -> WorkspaceConfig:
    """Read and validate a kizuna.toml file."""
    p = os.fspath(path)
    try:
        with open(p, "rb") as fh:  # (not pathlib: `kizuna match` pays for every import at start-up)
            raw = fh.read()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from exc
    return parse_config(doc, p, rules_only=rules_only)


def config_to_dict(cfg: WorkspaceConfig) -> dict[str, Any]:
    """Return the TOML document for a config (the inverse of parse_config)."""
    doc: dict[str, Any] = {"workspace": {"slug": cfg.slug, "name": cfg.name, "own_accounts": list(cfg.own_accounts)}}
    doc["brands"] = [
        {"id": b.id, "name": b.name, "aliases": list(b.aliases), "description": b.description} for b in cfg.brands
    ]
    doc["rules"] = []
    for rule in cfg.rules:
        t: dict[str, Any] = {"id": rule.id}
        if rule.brand:
            t["brand"] = rule.brand
        t["query"] = rule.query
        if not rule.enabled:
            t["enabled"] = False
        doc["rules"].append(t)
    doc["departments"] = [
        {"id": d.id, "name": d.name, **({"email": d.email} if d.email else {})} for d in cfg.departments
    ]
    doc["routing"] = [
        {
            "department": rt.department,
            **({"intents": list(rt.intents)} if rt.intents else {}),
            **({"brands": list(rt.brands)} if rt.brands else {}),
            **({"keywords": list(rt.keywords)} if rt.keywords else {}),
        }
        for rt in cfg.routing
    ]
    doc["collection"] = cfg.collection
    doc["approval"] = cfg.approval
    doc["policy"] = cfg.policy
    doc["business_hours"] = cfg.business_hours
    return doc
