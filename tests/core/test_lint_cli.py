"""``kizuna lint``: draft on stdin, JSON on stdout, exit 0/1/2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.lint_cli import main

REPO = Path(__file__).resolve().parents[2]
GOOD = "ご連絡ありがとうございます！担当の鈴木です。"
SELLING = "今ならセール中です！担当の鈴木です。"


def run(
    argv: list[str], draft: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, Any, str]:
    """Run the command; return the exit status, the parsed JSON (or None) and stderr."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(draft))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_it_prints_the_length_and_no_violations_for_a_good_reply(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["--platform", "x", "--operator", "鈴木"], GOOD + "\n", monkeypatch, capsys)
    assert code == 0
    assert out == {"length": {"used": 44, "limit": 280}, "violations": []}


def test_it_exits_1_and_lists_a_blocking_violation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["--platform", "bluesky", "--operator", "鈴木"], SELLING, monkeypatch, capsys)
    assert code == 1
    assert out["length"] == {"used": 18, "limit": 300}
    assert out["violations"][0] == {
        "rule": "sales",
        "severity": "block",
        "message": 'sales: promotional phrase "今なら" at 0–3',
        "span": [0, 3],
    }


def test_it_prints_japanese_as_is(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(SELLING))
    main(["--platform", "x", "--operator", "鈴木"])
    out = capsys.readouterr().out
    assert "今なら" in out
    assert "\\u" not in out


def test_it_exits_0_when_violations_only_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "sent.jsonl"
    earlier = "ご連絡ありがとうございます！いただいたご意見は商品企画に必ず伝えます。担当の佐藤です。"
    history.write_text(json.dumps({"text": earlier}, ensure_ascii=False) + "\n\n", encoding="utf-8")
    draft = earlier.replace("佐藤", "鈴木")
    code, out, _ = run(
        ["--platform", "mastodon", "--operator", "鈴木", "--history", str(history)], draft, monkeypatch, capsys
    )
    assert code == 0
    assert [(v["rule"], v["severity"]) for v in out["violations"]] == [("copy", "warn")]


def test_it_reads_the_policy_table_of_a_kizuna_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kizuna.toml"
    config.write_text(
        '[workspace]\nslug = "hidamari"\n\n[policy]\nversion = 2\nmastodon_limit = 20\n\n[policy.rules]\nsales = "warn"\n',
        encoding="utf-8",
    )
    code, out, _ = run(
        ["--platform", "mastodon", "--policy", str(config), "--operator", "鈴木"], SELLING, monkeypatch, capsys
    )
    assert code == 0
    assert out["length"] == {"used": 18, "limit": 20}
    assert {v["severity"] for v in out["violations"]} == {"warn"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[policy.rules]\nsale = "block"\n', "kizuna.toml: [policy.rules] unknown rule 'sale'"),
        ("[policy]\nversion = \n", "kizuna.toml: not valid TOML"),
    ],
)
def test_it_exits_2_for_a_bad_policy_file(
    content: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "kizuna.toml"
    config.write_text(content, encoding="utf-8")
    code, out, err = run(["--platform", "x", "--policy", str(config)], GOOD, monkeypatch, capsys)
    assert (code, out) == (2, None)
    assert message in err


def test_it_exits_2_for_a_missing_policy_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["--platform", "x", "--policy", str(tmp_path / "nope.toml")], GOOD, monkeypatch, capsys)
    assert code == 2
    assert "nope.toml: cannot read policy file" in err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "sent.jsonl:2: not valid JSON"),
        ('{"body": "hi"}', 'sent.jsonl:2: expected an object with a "text" string'),
        ('["hi"]', 'sent.jsonl:2: expected an object with a "text" string'),
    ],
)
def test_it_exits_2_naming_the_bad_history_line(
    line: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    history = tmp_path / "sent.jsonl"
    history.write_text('{"text": "ok"}\n' + line + "\n", encoding="utf-8")
    code, out, err = run(["--platform", "x", "--history", str(history)], GOOD, monkeypatch, capsys)
    assert (code, out) == (2, None)
    assert message in err


@pytest.mark.parametrize("argv", [[], ["--platform", "threads"]])
def test_it_exits_2_for_bad_arguments(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, GOOD, monkeypatch, capsys)
    assert (code, out) == (2, None)
    assert "--platform" in err


def test_it_runs_as_a_program_without_django() -> None:
    script = (
        "import runpy, sys\n"
        "sys.argv = ['kizuna lint', '--platform', 'x', '--operator', '鈴木']\n"
        "try:\n"
        "    runpy.run_module('kizuna.core.lint_cli', run_name='__main__')\n"
        "finally:\n"
        "    assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')], 'imported Django'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        input=SELLING,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["violations"][0]["rule"] == "sales"
