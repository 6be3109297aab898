"""Routing: which department a case belongs to, from the workspace's [[routing]] rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kizuna.core.normalize import normalize


def route_department(routes: Iterable[Mapping[str, Any]], *, intent: str, brand: str | None, text: str) -> str | None:
    """Return the department of the first route whose every given condition holds.

    A route's conditions are `intents`, `brands` and `keywords` (any keyword, normalized);
    a condition left out always holds.
    """
    normalized = normalize(text)
    for route in routes:
        intents = route.get("intents") or ()
        brands = route.get("brands") or ()
        keywords = route.get("keywords") or ()
        if intents and intent not in intents:
            continue
        if brands and brand not in brands:
            continue
        if keywords and not any(normalize(k) in normalized for k in keywords):
            continue
        return str(route["department"])
    return None
