from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from kizuna.core.triage import cli
from kizuna.core.triage.model import CORPUS, TriageModel

CONFIG = """
[workspace]
name = "Hidamari"

[[brands]]
id = "masshiro"
name = "まっしろ"
aliases = ["まっしろ", "まっしろ洗濯機"]
description = "ドラム式洗濯機のブランド。雪や服が「真っ白」になる話は当ブランドではない。"

[[departments]]
id = "quality"
name = "品質保証"

[[departments]]
id = "support"
name = "サポート"

[[routing]]
department = "quality"
intents = ["defect"]
brands = ["masshiro"]

[[routing]]
department = "support"
"""


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "kizuna.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_it_writes_one_decision_a_post_in_input_order(monkeypatch: pytest.MonkeyPatch, config: Path) -> None:
    posts = [
        {"id": "a", "text": "まっしろの洗濯機、昨日から変な音がして壊れたみたい", "brand": "masshiro"},
        {"id": 2, "text": "まっしろの乾燥機、最高!", "brand": "masshiro", "author_followers": 30},
        {"id": "c", "text": "今度は焦げ臭い", "context": ["まっしろの洗濯機、昨日から変な音"]},
    ]
    status, out, err = run(
        monkeypatch, ["--config", str(config)], "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts)
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and err == ""
    assert [line["id"] for line in lines] == ["a", 2, "c"]
    for line in lines:
        assert set(line) == {"id", "intent", "response", "risk", "department", "confidence", "reasons"}
        assert 0 <= line["confidence"] <= 1 and line["reasons"]
    assert lines[0]["intent"] == "defect" and lines[0]["department"] == "quality"
    assert lines[1]["department"] == "support"


def test_it_leaves_department_null_without_config(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out, _ = run(monkeypatch, [], '{"id": 1, "text": "まっしろの洗濯機が壊れた", "brand": "masshiro"}\n')
    assert status == 0
    assert json.loads(out)["department"] is None


def test_it_reports_malformed_lines_with_their_number_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, config: Path
) -> None:
    stdin = "\n".join(
        [
            '{"id": 1, "text": "ok"}',
            "{not json",
            '{"text": "no id"}',
            '{"id": 4, "text": 5}',
            '{"id": 5, "text": "x", "brand": "nobody"}',
            '{"id": 6, "text": "x", "author_followers": -1}',
            "",
            '{"id": 8, "text": "also ok"}',
        ]
    )
    status, out, err = run(monkeypatch, ["--config", str(config)], stdin)
    assert status == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1, 8]
    for number in (2, 3, 4, 5, 6):
        assert f"stdin:{number}:" in err
    assert 'brand "nobody"' in err


def test_it_refuses_a_broken_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[routing]]\ndepartment = 'nowhere'\n", encoding="utf-8")
    status, out, err = run(monkeypatch, ["--config", str(path)], '{"id": 1, "text": "x"}\n')
    assert status == 2 and out == "" and "nowhere" in err


def test_it_evaluates_a_labelled_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (CORPUS / "heldout.jsonl").read_text(encoding="utf-8").splitlines()][:40]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + '{"text": "no labels"}\n')
    status, out, err = run(monkeypatch, ["eval", str(path)])
    assert status == 1 and "gold.jsonl:41: missing or unknown intent, response, risk" in err
    for heading in ("precision", "recall", "macro-F1", "intent confusion", "response accuracy", "high-risk recall"):
        assert heading in out
    assert "noise precision" in out and "rows: 40" in out

    status, out, _ = run(monkeypatch, ["eval", str(path), "--json"])
    figures = json.loads(out)
    assert figures["rows"] == 40
    assert set(figures["headline"]) == {"intent_macro_f1", "response_accuracy", "high_risk_recall", "noise_precision"}
    assert len(figures["intent"]["confusion"]) == 10


def test_it_retrains_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    lines = (CORPUS / "train.jsonl").read_text(encoding="utf-8").splitlines()
    train_file, heldout_file = tmp_path / "train.jsonl", tmp_path / "held.jsonl"
    test_one, test_two = tmp_path / "test1.jsonl", tmp_path / "test2.jsonl"
    train_file.write_text("\n".join(lines[:120]) + "\n", encoding="utf-8")
    heldout_file.write_text("\n".join(lines[120:150]) + "\n", encoding="utf-8")
    test_one.write_text("\n".join(lines[150:160]) + "\n", encoding="utf-8")
    test_two.write_text("\n".join(lines[160:172]) + "\n", encoding="utf-8")
    out_path = tmp_path / "model.npz"
    argv = ["train", "--out", str(out_path), "--heldout", str(heldout_file), "--test", str(test_one)]
    status, out, err = run(monkeypatch, [*argv, "--test", str(test_two), str(train_file)])
    assert status == 0, err
    assert out_path.exists() and "trained on 120 rows" in out and "intent macro-F1" in out
    assert f"heldout ({heldout_file})" in out and f"test ({test_one} + {test_two})" in out
    metrics = TriageModel.load(out_path).metrics
    assert metrics["heldout"]["rows"] == 30 and metrics["test"]["rows"] == 22  # the test sets together
    status, out, _ = run(monkeypatch, ["--model", str(out_path)], '{"id": 1, "text": "壊れた"}\n')
    assert status == 0 and json.loads(out)["id"] == 1


def test_it_cross_validates_training_rows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    lines = (CORPUS / "train.jsonl").read_text(encoding="utf-8").splitlines()[:90]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out, err = run(monkeypatch, ["cv", "--folds", "2", "--json", str(path)])
    assert status == 0, err
    figures = json.loads(out)
    assert figures["rows"] == 90  # every row decided once, by the fold that did not train on it
    assert sum(map(sum, figures["intent"]["confusion"])) == 90
    status, out, err = run(monkeypatch, ["cv", "--folds", "2", str(path)])
    assert status == 0 and out.startswith("2-fold cross-validation") and "intent macro-F1" in out
    status, _, err = run(monkeypatch, ["cv", "--folds", "50", str(path)])
    assert status == 2 and "too few for 50 folds" in err


def test_eval_can_give_unbranded_rows_the_brand_their_text_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kizuna.core.triage.cli import brand_in_text
    from kizuna.core.triage.training import load_brands

    demo = Path(__file__).resolve().parents[3] / "kizuna/sources/demo/workspace.toml"
    brands = load_brands(demo)
    assert brand_in_text("この資料ｻｸｯﾄ終わらせて帰るぞ", brands) == "sakutto"
    assert brand_in_text("ひだまりアプリのクーポンが出ない", brands) == "hidamari"
    assert brand_in_text("今日はいい天気", brands) is None
    path = tmp_path / "gold.jsonl"
    row = {
        "brand": None,
        "text": "この資料サクッと終わらせて帰るぞ",
        "intent": "noise",
        "response": "none",
        "risk": "low",
    }
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    import kizuna.core.triage.cli as cli

    seen: list[object] = []
    scored = cli.evaluate
    monkeypatch.setattr(cli, "evaluate", lambda model, rows, *a, **k: seen.extend(rows) or scored(model, rows, *a, **k))
    status, out, _ = run(monkeypatch, ["eval", str(path), "--brands", str(demo), "--brand-from-text", "--json"])
    assert status == 0 and json.loads(out)["rows"] == 1
    assert seen == [{**row, "brand": "sakutto"}]
