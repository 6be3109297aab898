"""Triage inside the desk: the workspace's model, its measured quality, and retraining.

A workspace uses the model shipped with Kizuna until it trains its own from the corpus plus
its team's decisions (TriageFeedback). The held-out split of the corpus is never trained on,
so every version is measured on the same posts it never saw.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kizuna.accounts.models import Workspace
from kizuna.brands.models import Brand
from kizuna.core.triage.evaluate import GOALS
from kizuna.core.triage.model import (
    CORPUS,
    TEST_SETS,
    TRAIN_SETS,
    BrandContext,
    TriageDecision,
    TriageModel,
    TriagePost,
    load_default,
)
from kizuna.core.triage.training import load_brands, train
from kizuna.triage.models import ModelVersion, TriageFeedback

log = logging.getLogger("kizuna.triage")
_models: dict[str, TriageModel] = {}
_lock = threading.Lock()
# Retrain when this many new decisions have come in and the last training is a day old.
RETRAIN_AFTER_FEEDBACK = 20
RETRAIN_INTERVAL = timedelta(hours=24)


def brand_context(brand: Brand | None) -> BrandContext | None:
    """Return what triage knows of a brand."""
    if brand is None:
        return None
    return BrandContext(id=brand.key, name=brand.name, aliases=tuple(brand.aliases), description=brand.description)


def model_for(workspace: Workspace) -> TriageModel:
    """Return the model in use for a workspace (its active trained version, else the default)."""
    active = ModelVersion.objects.filter(workspace=workspace, active=True).values_list("path", flat=True).first()
    if not active:
        return load_default()
    with _lock:
        model = _models.get(active)
    if model is None:
        try:
            model = TriageModel.load(active)
        except (OSError, ValueError, KeyError):
            log.exception("cannot load triage model %s; using the default", active)
            return load_default()
        with _lock:
            _models[active] = model
    return model


def decide(
    workspace: Workspace,
    *,
    text: str,
    context: list[str],
    brand: Brand | None,
    followers: int,
    lang: str = "",
) -> TriageDecision:
    """Label one post with the workspace's model."""
    post = TriagePost(
        text=text, context=tuple(context), brand=brand_context(brand), author_followers=followers, lang=lang or None
    )
    return model_for(workspace).predict(post)


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    """Return the held-out figures, with the test set's under "test" when the model was measured there."""
    heldout, test = metrics.get("heldout", {}), metrics.get("test", {})
    figures = {**heldout.get("headline", {}), "heldout_rows": heldout.get("rows")}
    if test:
        figures["test"] = {**test.get("headline", {}), "rows": test.get("rows")}
    return figures


@dataclass(frozen=True)
class Figure:
    label: str
    value: float | None
    goal: float

    @property
    def met(self) -> bool:
        return self.value is not None and self.value >= self.goal


FIGURE_LABELS = {
    "intent_macro_f1": gettext_lazy("Intent macro-F1"),
    "response_accuracy": gettext_lazy("Response accuracy"),
    "high_risk_recall": gettext_lazy("High-risk recall"),
    "noise_precision": gettext_lazy("Noise precision"),
}


def goal_figures(figures: dict[str, Any]) -> list[Figure]:
    """Return the four headline figures beside their goals, in the goals' order."""
    return [Figure(str(FIGURE_LABELS[key]), figures.get(key), goal) for key, goal in GOALS.items()]


@dataclass
class ModelInfo:
    version: str
    metrics: dict[str, Any]
    trained_here: bool
    agreement: float | None


def model_info(workspace: Workspace) -> ModelInfo:
    """Return the model in use with its held-out figures and how often operators agreed with it."""
    model = model_for(workspace)
    corrected = TriageFeedback.objects.filter(workspace=workspace, kind__in=["corrected", "reassigned"]).count()
    decided = TriageFeedback.objects.filter(workspace=workspace).count()
    agreement = None if decided == 0 else round(1 - corrected / decided, 3)
    trained_here = ModelVersion.objects.filter(workspace=workspace, active=True).exists()
    return ModelInfo(model.version, _headline(model.metrics), trained_here, agreement)


def model_quality(workspace: Workspace, version: str) -> dict[str, Any] | None:
    """Return the held-out figures of the model version that labelled a case, if known."""
    stored = ModelVersion.objects.filter(workspace=workspace, version=version).values_list("metrics", flat=True).first()
    if stored is not None:
        return _headline(stored)
    default = load_default()
    return _headline(default.metrics) if default.version == version else None


def _read_jsonl(*paths: Path) -> list[dict[str, Any]]:
    """Return the rows of JSONL files, one file after another."""
    return [
        json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def feedback_rows(workspace: Workspace) -> list[dict[str, Any]]:
    """Turn the team's decisions into training rows; a label a decision did not set keeps the prediction."""
    rows = []
    for fb in TriageFeedback.objects.filter(workspace=workspace).order_by("created_at"):
        predicted = fb.predicted or {}
        row = {
            "id": f"fb{fb.pk}",
            "text": fb.text,
            "context": fb.context,
            "brand": f"ws-{fb.brand}" if fb.brand else None,
            "author_followers": fb.author_followers,
            "intent": fb.intent or predicted.get("intent"),
            "response": fb.response or predicted.get("response"),
            "risk": fb.risk or predicted.get("risk"),
        }
        if all(row[k] for k in ("intent", "response", "risk")):
            rows.append(row)
    return rows


def do_retrain(workspace: Workspace) -> ModelVersion:
    """Train a model on the corpus plus the workspace's decisions, measure it on the held-out split,
    store it under the data folder and put it in use unless it measures worse than the one in use."""
    brands = dict(load_brands(CORPUS / "brands.toml"))
    for brand in Brand.objects.filter(workspace=workspace):
        ctx = brand_context(brand)
        assert ctx is not None
        brands[f"ws-{brand.key}"] = BrandContext(f"ws-{brand.key}", ctx.name, ctx.aliases, ctx.description)
    corpus = _read_jsonl(*TRAIN_SETS)
    extra = feedback_rows(workspace)
    model = train(
        [*corpus, *extra],
        brands=brands,
        heldout=_read_jsonl(CORPUS / "heldout.jsonl"),
        test=_read_jsonl(*TEST_SETS),
    )
    folder = Path(settings.DATA_DIR) / "models" / workspace.slug
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model.version}.npz"
    model.save(path)
    new_f1 = _headline(model.metrics).get("intent_macro_f1", 0.0)
    current_f1 = _headline(model_for(workspace).metrics).get("intent_macro_f1", 0.0)
    with transaction.atomic():
        version, _ = ModelVersion.objects.update_or_create(
            workspace=workspace,
            version=model.version,
            defaults={
                "path": str(path),
                "metrics": model.metrics,
                "training_rows": len(corpus),
                "feedback_rows": len(extra),
            },
        )
        # A model that measures clearly worse on the held-out posts is kept, not used.
        if new_f1 >= current_f1 - 0.01:
            ModelVersion.objects.filter(workspace=workspace).update(active=False)
            ModelVersion.objects.filter(pk=version.pk).update(active=True)
            version.active = True
    log.info(
        "trained %s for %s (intent macro-F1 %.3f, in use: %s)", model.version, workspace.slug, new_f1, version.active
    )
    return version


def retrain_due(workspace: Workspace) -> bool:
    """Return whether the nightly job should retrain this workspace now."""
    last = ModelVersion.objects.filter(workspace=workspace).order_by("-trained_at").first()
    since = last.trained_at if last else None
    if since and timezone.now() - since < RETRAIN_INTERVAL:
        return False
    new = TriageFeedback.objects.filter(workspace=workspace)
    if since:
        new = new.filter(created_at__gt=since)
    return new.count() >= RETRAIN_AFTER_FEEDBACK
