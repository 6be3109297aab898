"""Checks every platform parser applies to a payload before it becomes a post.

A payload must be storable as JSON text in any database we support: no NUL, no lone
surrogates, no NaN, no non-JSON types, no absurd nesting. Errors name the field.
"""

from __future__ import annotations

import math

from kizuna.core.posts import PayloadError

MAX_DEPTH = 64


def optional_str(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f'"{where}" must be a string, got {type(value).__name__}')
    return value


def check_json(value: object, path: str, depth: int = 0) -> None:
    """Refuse what could not be stored as JSON text: NUL, lone surrogates, NaN, non-JSON types."""
    if depth > MAX_DEPTH:
        raise PayloadError(f'"{path}" is nested more than {MAX_DEPTH} levels deep')
    if isinstance(value, str):
        check_chars(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise PayloadError(f'"{path}" has a key that is not a string: {say(key)}')
            check_chars(key, path)
            check_json(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, f"{path}[{i}]", depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise PayloadError(f'"{path}" is {value}, which JSON cannot hold')
    elif value is not None and not isinstance(value, bool | int):
        raise PayloadError(f'"{path}" is a {type(value).__name__}, not a JSON value')


def check_chars(value: str, path: str) -> None:
    if "\x00" in value:
        raise PayloadError(f'"{path}" contains a NUL character')
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PayloadError(f'"{path}" contains a lone surrogate (U+{ord(value[exc.start]):04X})') from None


def say(value: object) -> str:
    return repr(value).encode("utf-8", "backslashreplace").decode("utf-8")[:80]
