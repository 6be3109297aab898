"""The reply policy: what a public reply may not do, configured per workspace under ``[policy]``.

Each rule has a fixed id and a severity: ``block`` stops the reply, ``warn`` shows the finding and
lets it go, ``off`` skips the rule. The policy carries a version; a sent reply records the version of
the policy it passed (``LintResult.policy_version``). The detectors live in ``policy_rules``.
Pure Python, no Django.

    [policy]
    version = 3
    allowed_symbols = ["☆", "♪", "!", "！"]
    sales_terms = ["福袋"]
    copy_threshold = 0.75
    mastodon_limit = 500

    [policy.rules]
    copy = "block"
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from kizuna.core import policy_rules as rules
from kizuna.core.length import (
    BLUESKY_MAX_BYTES,
    PLATFORMS,
    LengthResult,
    grapheme_ends,
    mastodon_length,
    measure,
    parse_x_text,
)

Severity = Literal["block", "warn", "off"]
SEVERITIES: tuple[Severity, ...] = ("block", "warn", "off")
RULE_IDS: tuple[str, ...] = ("length", "signature", "sales", "incentive", "symbol", "dm", "pii", "copy")

# What a strict Japanese support desk would choose. Everything that would be a public incident
# (over-long posts the network refuses, unsigned replies, selling, buying silence with discounts,
# DMs and personal data in the open, emoji/kaomoji beyond the agreed set) blocks: these are the
# house rules of active support and the operator can always fix the draft. Only `copy` warns: the
# similarity score cannot tell a pasted stock reply from two honest replies to the same question,
# so it shows the earlier reply and leaves the judgement (and the approver's eye) to people.
DEFAULT_SEVERITIES: Mapping[str, Severity] = {
    "length": "block",
    "signature": "block",
    "sales": "block",
    "incentive": "block",
    "symbol": "block",
    "dm": "block",
    "pii": "block",
    "copy": "warn",
}
DEFAULT_ALLOWED_SYMBOLS: tuple[str, ...] = ("☆", "♪", "!", "！")
DEFAULT_COPY_THRESHOLD = 0.75
DEFAULT_MASTODON_LIMIT = 500

_KEYS = (
    "version",
    "rules",
    "sales_terms",
    "incentive_terms",
    "allowed_symbols",
    "public_contacts",
    "copy_threshold",
    "mastodon_limit",
)


class PolicyError(ValueError):
    """A ``[policy]`` table that cannot be used; the message names the key and what was expected."""


@dataclass(frozen=True)
class Policy:
    """A workspace's reply policy (the ``[policy]`` table of kizuna.toml)."""

    version: int = 1
    rules: Mapping[str, Severity] = field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    sales_terms: tuple[str, ...] = ()  # added to the built-in phrases
    incentive_terms: tuple[str, ...] = ()  # added to the built-in phrases
    allowed_symbols: tuple[str, ...] = DEFAULT_ALLOWED_SYMBOLS
    public_contacts: tuple[str, ...] = ()  # the company's own phone numbers and addresses
    copy_threshold: float = DEFAULT_COPY_THRESHOLD
    mastodon_limit: int = DEFAULT_MASTODON_LIMIT

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Build a policy from a ``[policy]`` table; raise PolicyError naming the bad key."""
        if not isinstance(data, Mapping):
            raise PolicyError("[policy] must be a table")
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise PolicyError(f"[policy] unknown key {unknown[0]!r}; expected one of {', '.join(_KEYS)}")
        version = data.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise PolicyError(f"[policy] version must be a positive integer, got {version!r}")
        threshold = data.get("copy_threshold", DEFAULT_COPY_THRESHOLD)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
            raise PolicyError(f"[policy] copy_threshold must be a number in (0, 1], got {threshold!r}")
        if math.isnan(threshold):
            raise PolicyError("[policy] copy_threshold must be a number in (0, 1], got nan")
        limit = data.get("mastodon_limit", DEFAULT_MASTODON_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise PolicyError(f"[policy] mastodon_limit must be a positive integer, got {limit!r}")
        return cls(
            version=version,
            rules=_severities(data.get("rules", {})),
            sales_terms=_strings(data, "sales_terms", ()),
            incentive_terms=_strings(data, "incentive_terms", ()),
            allowed_symbols=_strings(data, "allowed_symbols", DEFAULT_ALLOWED_SYMBOLS),
            public_contacts=_strings(data, "public_contacts", ()),
            copy_threshold=float(threshold),
            mastodon_limit=limit,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the ``[policy]`` table for this policy (the inverse of from_dict)."""
        return {
            "version": self.version,
            "rules": dict(self.rules),
            "sales_terms": list(self.sales_terms),
            "incentive_terms": list(self.incentive_terms),
            "allowed_symbols": list(self.allowed_symbols),
            "public_contacts": list(self.public_contacts),
            "copy_threshold": self.copy_threshold,
            "mastodon_limit": self.mastodon_limit,
        }

    def severity(self, rule: str) -> Severity:
        """Return the configured severity of a rule id."""
        return self.rules.get(rule, DEFAULT_SEVERITIES[rule])


def _severities(table: object) -> dict[str, Severity]:
    if not isinstance(table, Mapping):
        raise PolicyError("[policy.rules] must be a table of rule = severity")
    result = dict(DEFAULT_SEVERITIES)
    for rule, severity in table.items():
        if rule not in RULE_IDS:
            raise PolicyError(f"[policy.rules] unknown rule {rule!r}; rules are {', '.join(RULE_IDS)}")
        if severity not in SEVERITIES:
            raise PolicyError(f'[policy.rules] {rule}: severity must be "block", "warn" or "off", got {severity!r}')
        result[rule] = cast(Severity, severity)
    return result


def _strings(data: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"[policy] {key} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


@dataclass(frozen=True)
class Violation:
    """One rule broken by a draft; span is [start, end) in Python str indices of the draft."""

    rule: str
    severity: Severity
    message: str
    span: tuple[int, int]

    def to_dict(self) -> dict[str, Any]:
        """Return the violation as the JSON object `kizuna lint` prints."""
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "span": list(self.span)}


@dataclass(frozen=True)
class LintResult:
    """The length of a draft on its platform and the rules it breaks, under one policy version."""

    length: LengthResult
    violations: tuple[Violation, ...]
    policy_version: int

    @property
    def blocked(self) -> bool:
        """Tell whether any violation blocks the reply."""
        return any(v.severity == "block" for v in self.violations)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as the JSON object `kizuna lint` prints."""
        return {
            "length": {"used": self.length.used, "limit": self.length.limit},
            "violations": [v.to_dict() for v in self.violations],
        }


def _utf16_to_index(text: str, units: int) -> int:
    count = 0
    for i, ch in enumerate(text):
        if count >= units:
            return i
        count += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def _overflow_start(draft: str, platform: str, limit: int) -> int:
    """Return the index from which the draft no longer fits the platform's limit."""
    if platform == "x":
        parsed = parse_x_text(draft)
        return _utf16_to_index(draft, parsed.valid_range[1] + 1) if parsed.weighted_length else 0
    boundaries = grapheme_ends(draft)
    if platform == "bluesky":
        fits = [end for end in boundaries if len(draft[:end].encode("utf-8")) <= BLUESKY_MAX_BYTES]
        return min(boundaries[limit - 1] if limit <= len(boundaries) else len(draft), fits[-1] if fits else 0)
    # Mastodon counts URLs and remote mentions specially; find the longest prefix that fits.
    low, high = 0, len(boundaries)
    while low < high:
        mid = (low + high + 1) // 2
        if mastodon_length(draft[: boundaries[mid - 1]], limit).used <= limit:
            low = mid
        else:
            high = mid - 1
    return boundaries[low - 1] if low else 0


def _length_findings(draft: str, platform: str, result: LengthResult) -> list[rules.Finding]:
    if result.used <= result.limit and (platform != "bluesky" or len(draft.encode("utf-8")) <= BLUESKY_MAX_BYTES):
        return []
    start = _overflow_start(draft, platform, result.limit)
    unit = {"x": "weighted characters", "bluesky": "graphemes", "mastodon": "characters"}[platform]
    over = f"{result.used} of {result.limit} {unit} on {platform} ({result.used - result.limit} over)"
    if platform == "bluesky" and result.used <= result.limit:
        over = f"{len(draft.encode('utf-8'))} of {BLUESKY_MAX_BYTES} UTF-8 bytes on bluesky"
    tail = rules.quote(draft[start:], 20)
    return [rules.Finding(start, len(draft), f"{over}; {tail} from {start} does not fit")]


def lint(
    draft: str,
    *,
    platform: str,
    policy: Policy,
    operator: str | None = None,
    history: Sequence[str] = (),
) -> LintResult:
    """Check a reply draft against the policy for a platform; return its length and violations.

    ``operator`` is the display name the reply must be signed with (when None, any signature
    shape passes); ``history`` holds the workspace's recent sent replies for the copy rule.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    length = measure(draft, platform, limit=policy.mastodon_limit if platform == "mastodon" else None)
    norm = rules.normalize(draft)
    found: list[tuple[str, rules.Finding]] = []

    def check(rule: str, findings: Sequence[rules.Finding]) -> None:
        found.extend((rule, f) for f in findings)

    active = {rule for rule in RULE_IDS if policy.severity(rule) != "off"}
    if "length" in active:
        check("length", _length_findings(draft, platform, length))
    if "signature" in active:
        check("signature", rules.find_missing_signature(norm, operator))
    if "sales" in active:
        check("sales", rules.find_sales(norm, rules.literal_patterns(policy.sales_terms)))
    if "incentive" in active:
        check("incentive", rules.find_incentives(norm, rules.literal_patterns(policy.incentive_terms)))
    if "symbol" in active:
        check("symbol", rules.find_symbols(draft, policy.allowed_symbols))
    if "dm" in active:
        check("dm", rules.find_dm_requests(norm))
    if "pii" in active:
        check("pii", rules.find_personal_data(norm, policy.public_contacts))
    if "copy" in active and history:
        check("copy", rules.find_copies(draft, history, policy.copy_threshold, operator))
    order = {rule: i for i, rule in enumerate(RULE_IDS)}
    violations = tuple(
        Violation(rule, policy.severity(rule), f"{rule}: {f.message}", (f.start, f.end))
        for rule, f in sorted(found, key=lambda rf: (rf[1].start, order[rf[0]], rf[1].end))
    )
    return LintResult(length=length, violations=violations, policy_version=policy.version)
