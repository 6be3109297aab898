from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from kizuna.core.triage.model import CORPUS


def load_checker(monkeypatch: pytest.MonkeyPatch, folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_corpus", CORPUS / "check_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", folder)
    return module


def test_it_finds_the_shipped_corpus_valid(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert load_checker(monkeypatch, CORPUS).main() == 0
    out = capsys.readouterr().out
    assert "fresh=" in out and "fresh2=" in out


def test_it_refuses_a_fresh_brand_with_training_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("brands.toml", "train.jsonl", "heldout.jsonl", "fresh.jsonl", "fresh2.jsonl"):
        shutil.copy(CORPUS / name, tmp_path / name)
    fresh = json.loads((CORPUS / "fresh.jsonl").read_text(encoding="utf-8").splitlines()[0])
    lines = (CORPUS / "train.jsonl").read_text(encoding="utf-8").splitlines()
    leaked = dict(fresh, id=f"t{len(lines) + 1:04d}", text=fresh["text"] + "(再掲)")
    (tmp_path / "train.jsonl").write_text("\n".join([*lines, json.dumps(leaked, ensure_ascii=False)]) + "\n")
    assert load_checker(monkeypatch, tmp_path).main() == 1
    assert f"fresh.jsonl: brand {fresh['brand']!r} also has posts in another split" in capsys.readouterr().err
