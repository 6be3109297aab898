"""Score triage decisions against gold labels: per-label precision, recall, F1, confusion.

Plain data in and out; `report` renders the same figures as text for the command line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from kizuna.core.triage.lexicon import INTENTS, RESPONSES, RISKS

if TYPE_CHECKING:
    from kizuna.core.triage.features import BrandContext
    from kizuna.core.triage.model import TriageDecision, TriageModel

DIGITS = 4  # stored figures are rounded, so that a stored report equals a recomputed one


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int  # gold rows with this label
    predicted: int  # rows predicted with this label


@dataclass(frozen=True)
class Scores:
    labels: tuple[str, ...]
    per_label: tuple[LabelScore, ...]
    macro_f1: float
    accuracy: float
    confusion: tuple[tuple[int, ...], ...]  # confusion[gold][predicted], in labels order

    def label(self, name: str) -> LabelScore:
        """Return the scores of one label."""
        return next(s for s in self.per_label if s.label == name)


def _ratio(num: int, den: int) -> float:
    return round(num / den, DIGITS) if den else 0.0


def score_labels(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Scores:
    """Compare predicted labels with gold labels (same order, same length)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        confusion[index[g]][index[p]] += 1
    per_label = []
    for i, label in enumerate(labels):
        hit = confusion[i][i]
        support = sum(confusion[i])
        predicted_count = sum(row[i] for row in confusion)
        precision, recall = _ratio(hit, predicted_count), _ratio(hit, support)
        f1 = _ratio(2 * hit, support + predicted_count)
        per_label.append(LabelScore(label, precision, recall, f1, support, predicted_count))
    present = [s for s in per_label if s.support or s.predicted]
    macro = round(sum(s.f1 for s in present) / len(present), DIGITS) if present else 0.0
    correct = sum(confusion[i][i] for i in range(len(labels)))
    return Scores(
        tuple(labels), tuple(per_label), macro, _ratio(correct, len(gold)), tuple(tuple(r) for r in confusion)
    )


# The goals of the four headline figures (issue #5), as a floor each must reach.
GOALS = {"intent_macro_f1": 0.85, "response_accuracy": 0.90, "high_risk_recall": 0.95, "noise_precision": 0.90}
NAMES = {
    "intent_macro_f1": "intent macro-F1",
    "response_accuracy": "response accuracy",
    "high_risk_recall": "high-risk recall",
    "noise_precision": "noise precision",
}


def headline(intent: Scores, response: Scores, risk: Scores) -> dict[str, float]:
    """Return the four figures the triage goals are stated in."""
    return {
        "intent_macro_f1": intent.macro_f1,
        "response_accuracy": response.accuracy,
        "high_risk_recall": risk.label("high").recall,
        "noise_precision": intent.label("noise").precision,
    }


def evaluate(
    model: TriageModel,
    rows: Iterable[Mapping[str, Any]],
    brands: Mapping[str, BrandContext],
    *,
    fast_only: bool = False,
) -> dict[str, Any]:
    """Predict labelled rows (gold intent, response, risk) and score each label set."""
    from kizuna.core.triage.training import posts_from_rows

    rows = list(rows)
    return score_decisions(rows, model.predict_many(posts_from_rows(rows, brands), fast_only=fast_only))


def score_decisions(rows: Sequence[Mapping[str, Any]], decisions: Sequence[TriageDecision]) -> dict[str, Any]:
    """Score decisions against the gold labels of the rows they decided (same order)."""
    scores = {
        "intent": score_labels([r["intent"] for r in rows], [d.intent.value for d in decisions], INTENTS),
        "response": score_labels([r["response"] for r in rows], [d.response.value for d in decisions], RESPONSES),
        "risk": score_labels([r["risk"] for r in rows], [d.risk.value for d in decisions], RISKS),
    }
    figures = {
        "rows": len(rows),
        "headline": headline(scores["intent"], scores["response"], scores["risk"]),
        **{name: asdict(s) for name, s in scores.items()},
    }
    # Plain JSON data (lists, not tuples): what a model artifact stores and gives back.
    result: dict[str, Any] = json.loads(json.dumps(figures))
    return result


def scores_from_dict(data: Mapping[str, Any]) -> Scores:
    """Rebuild Scores from their asdict form (as stored in a model artifact)."""
    return Scores(
        tuple(data["labels"]),
        tuple(LabelScore(**s) for s in data["per_label"]),
        data["macro_f1"],
        data["accuracy"],
        tuple(tuple(r) for r in data["confusion"]),
    )


def report(metrics: Mapping[str, Any]) -> str:
    """Render evaluate()'s figures as a text report."""
    lines = [f"rows: {metrics['rows']}", ""]
    for name in ("intent", "response", "risk"):
        scores = scores_from_dict(metrics[name])
        lines.append(f"{name:<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
        for s in scores.per_label:
            lines.append(f"  {s.label:<10}{s.precision:>10.3f}{s.recall:>10.3f}{s.f1:>10.3f}{s.support:>9}")
        lines.append(f"  {'macro-F1':<10}{scores.macro_f1:>30.3f}")
        lines.append(f"  {'accuracy':<10}{scores.accuracy:>30.3f}")
        lines.append("")
    intent = scores_from_dict(metrics["intent"])
    short = [label[:5] for label in intent.labels]
    lines.append("intent confusion (rows: gold, columns: predicted)")
    lines.append(" " * 12 + "".join(f"{s:>6}" for s in short))
    for label, row in zip(intent.labels, intent.confusion, strict=True):
        lines.append(f"  {label:<10}" + "".join(f"{n:>6}" for n in row))
    lines.append("")
    head = metrics["headline"]
    for key, goal in GOALS.items():
        lines.append(f"{NAMES[key]:<20}{head[key]:.3f}   (goal >= {goal:.2f})")
    return "\n".join(lines) + "\n"
