"""Which publisher sends a reply: the source's platform connection, if it can publish.

A source without credentials has no publisher: its replies go to the dry-run outbox. RSS
sources cannot be replied to through an API: the operator answers on the blog by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kizuna.sources.base import ConnectorError, Publisher
from kizuna.sources.models import Platform, Source
from kizuna.sources.registry import Connection, connect

BY_HAND = frozenset({Platform.RSS})

# Tests put a factory here to stand in for a platform at the network seam.
_overrides: dict[str, Callable[[dict[str, Any], Source], Publisher]] = {}


def connection_for(source: Source | None) -> Connection | None:
    """Return the source's connection if it can publish replies, else None (dry run)."""
    if source is None or not source.has_credentials or source.platform in BY_HAND:
        return None
    if source.platform in _overrides:
        return Connection(source, publisher=_overrides[source.platform](source.get_credentials(), source))
    try:
        connection = connect(source)
    except ConnectorError:
        return None
    return connection if connection.publisher is not None else None


def publisher_for(source: Source | None) -> Publisher | None:
    """Return the publisher for a source, or None when its replies cannot be published."""
    connection = connection_for(source)
    return connection.publisher if connection else None
