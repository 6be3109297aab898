"""Which publisher sends a reply: one per platform, built from the source's credentials.

A source without credentials has no publisher: its replies go to the dry-run outbox. RSS
sources cannot be replied to through an API: the operator answers on the blog by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from kizuna.sources.base import Publisher
from kizuna.sources.models import Platform, Source

# platform -> "module:factory"; the factory takes (credentials, state) and returns a Publisher.
FACTORIES: dict[str, str] = {
    Platform.X: "kizuna.sources.x.publisher:build_publisher",
    Platform.BLUESKY: "kizuna.sources.bluesky.publisher:build_publisher",
    Platform.MASTODON: "kizuna.sources.mastodon.publisher:build_publisher",
}
BY_HAND = frozenset({Platform.RSS})

# Tests (and a future plug-in point) put a factory here to stand in for the real one.
_overrides: dict[str, Callable[[dict[str, Any], Source], Publisher]] = {}


def publisher_for(source: Source | None) -> Publisher | None:
    """Return the publisher for a source, or None when replies to it cannot be published (dry run)."""
    if source is None or not source.has_credentials:
        return None
    if source.platform in _overrides:
        return _overrides[source.platform](source.get_credentials(), source)
    spec = FACTORIES.get(source.platform)
    if spec is None:
        return None
    module, _, name = spec.partition(":")
    try:
        factory = getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None
    publisher: Publisher = factory(source.get_credentials(), source)
    return publisher
