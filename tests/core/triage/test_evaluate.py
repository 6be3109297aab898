from __future__ import annotations

import pytest

from kizuna.core.triage.evaluate import report, score_labels


def test_it_scores_each_label_and_the_macro_average() -> None:
    gold = ["a", "a", "b", "b", "c"]
    predicted = ["a", "b", "b", "b", "a"]
    scores = score_labels(gold, predicted, ["a", "b", "c"])
    a, b, c = scores.per_label
    assert (a.precision, a.recall, a.f1) == (0.5, 0.5, 0.5)
    assert (b.precision, b.recall, b.f1) == (0.6667, 1.0, 0.8)
    assert (c.precision, c.recall, c.f1, c.support) == (0.0, 0.0, 0.0, 1)
    assert scores.macro_f1 == round((0.5 + 0.8 + 0.0) / 3, 4)
    assert scores.accuracy == 0.6
    assert scores.confusion == ((1, 1, 0), (0, 2, 0), (1, 0, 0))


def test_it_leaves_labels_nobody_used_out_of_the_macro_average() -> None:
    assert score_labels(["a"], ["a"], ["a", "b"]).macro_f1 == 1.0


def test_it_refuses_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        score_labels(["a", "b"], ["a"], ["a", "b"])


def test_it_reports_figures_as_text() -> None:
    from dataclasses import asdict

    from kizuna.core.triage.evaluate import headline
    from kizuna.core.triage.lexicon import INTENTS, RESPONSES, RISKS

    intent = score_labels(["noise", "praise"], ["noise", "noise"], INTENTS)
    response = score_labels(["none", "thanks"], ["none", "none"], RESPONSES)
    risk = score_labels(["high", "low"], ["high", "low"], RISKS)
    metrics = {
        "rows": 2,
        "headline": headline(intent, response, risk),
        "intent": asdict(intent),
        "response": asdict(response),
        "risk": asdict(risk),
    }
    text = report(metrics)
    assert "noise precision     0.500" in text
    assert "high-risk recall    1.000" in text
    assert "intent confusion" in text
