"""Crisis (炎上) watch: is this hour's volume of negative posts a spike for this brand?

Pure arithmetic on hourly counts. A brand is compared with its own baseline, so a big
brand's ordinary day is not an alarm and a small brand's sudden ten complaints are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, pstdev

NEGATIVE_INTENTS = frozenset({"defect", "staff", "urgent", "complaint"})
MIN_COUNT = 5  # fewer posts than this in an hour is never a crisis
FACTOR = 3.0  # ...and the hour must be at least this many times the usual hour
SIGMAS = 3.0  # ...and this many standard deviations above it
# A brand with less than a day of history has no baseline yet: only a flood this large alerts.
YOUNG_HOURS = 24
YOUNG_MIN_COUNT = 50


@dataclass(frozen=True)
class SpikeCheck:
    spike: bool
    count: int
    baseline: float
    threshold: float


def is_negative(intent: str, risk: str) -> bool:
    """Return whether a labelled post counts towards the crisis watch."""
    return intent in NEGATIVE_INTENTS or risk == "high"


def check_spike(
    current: int, history: Sequence[int], *, min_count: int = MIN_COUNT, history_hours: int | None = None
) -> SpikeCheck:
    """Compare the current hour's count with the brand's hourly history (oldest first).

    The threshold is the largest of `min_count`, FACTOR × the mean hour and mean + SIGMAS
    standard deviations, so both a quiet brand and a noisy one need a real jump. When the
    brand has been watched for less than YOUNG_HOURS (`history_hours`), zeros before it
    existed are no baseline: only YOUNG_MIN_COUNT posts in an hour alert.
    """
    if history_hours is not None and history_hours < YOUNG_HOURS:
        threshold = float(max(min_count, YOUNG_MIN_COUNT))
        return SpikeCheck(current >= threshold, current, 0.0, threshold)
    if history_hours is not None:
        history = history[-history_hours:]
    baseline = fmean(history) if history else 0.0
    spread = pstdev(history) if len(history) > 1 else 0.0
    threshold = max(float(min_count), FACTOR * baseline, baseline + SIGMAS * spread)
    return SpikeCheck(current >= threshold, current, round(baseline, 3), round(threshold, 3))
