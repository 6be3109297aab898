from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kizuna.core import match_cli

RULES = """
[workspace]
name = "Hidamari"

[[rules]]
id = "pocky"
query = '(ポッキー OR pocky) -ポッキーゲーム'
brand = "glico"

[[rules]]
id = "ポッキー返信"
query = "ポッキー is:reply"
"""


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "kizuna.toml"
    path.write_text(RULES, encoding="utf-8")
    return path


def run_cli(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: bytes) -> tuple[int, list[dict[str, object]], str]:
    stdout, stderr = io.BytesIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(stdin))))
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(stdout))
    monkeypatch.setattr(sys, "stderr", stderr)
    status = match_cli.main(argv)
    sys.stdout.flush()
    return status, [json.loads(line) for line in stdout.getvalue().splitlines()], stderr.getvalue()


def jsonl(*posts: object) -> bytes:
    return b"".join(json.dumps(p, ensure_ascii=False).encode() + b"\n" for p in posts)


def test_it_writes_one_line_per_post_in_input_order(monkeypatch: pytest.MonkeyPatch, rules_file: Path) -> None:
    posts = jsonl(
        {"id": "1", "text": "ぽっきー食べた"},
        {"id": 2, "text": "ポッキーゲームした"},
        {
            "id": "3",
            "text": "ポッキーありがとう",
            "is_reply": True,
            "is_repost": False,
            "lang": "ja",
            "author": "alice",
        },
        {"id": "4", "text": "nothing"},
    )
    status, lines, errors = run_cli(monkeypatch, ["--rules", str(rules_file)], posts)
    assert (status, errors) == (0, "")
    assert lines == [
        {"id": "1", "rules": ["pocky"]},
        {"id": 2, "rules": []},
        {"id": "3", "rules": ["pocky", "ポッキー返信"]},
        {"id": "4", "rules": []},
    ]


def test_it_reports_and_skips_malformed_lines(monkeypatch: pytest.MonkeyPatch, rules_file: Path) -> None:
    posts = (
        jsonl({"id": "1", "text": "pocky"})
        + b"{not json\n"
        + b"\n"
        + b'["a list"]\n'
        + jsonl({"text": "no id"}, {"id": "6", "text": 6}, {"id": "7", "text": "x", "is_reply": "yes"})
        + b'{"id": "8", "text": "\xff"}\n'
        + jsonl({"id": 1.5, "text": "x"}, {"id": "10", "text": "pocky", "lang": None})
    )
    status, lines, errors = run_cli(monkeypatch, ["--rules", str(rules_file)], posts)
    assert status == 1
    assert lines == [{"id": "1", "rules": ["pocky"]}, {"id": "10", "rules": ["pocky"]}]
    assert errors.splitlines() == [
        "kizuna match: line 2: not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1); skipped",
        "kizuna match: line 4: expected a JSON object, found an array; skipped",
        "kizuna match: line 5: expected an 'id'; skipped",
        "kizuna match: line 6: expected a string 'text'; skipped",
        "kizuna match: line 7: expected 'is_reply' to be a boolean or null; skipped",
        "kizuna match: line 8: not valid UTF-8 (byte 22); skipped",
        "kizuna match: line 9: expected 'id' to be a string or an integer; skipped",
    ]


def test_it_reads_windows_line_ends_and_a_last_line_without_newline(
    monkeypatch: pytest.MonkeyPatch, rules_file: Path
) -> None:
    posts = b'{"id": "1", "text": "pocky"}\r\n{"id": "2", "text": "pocky"}'
    status, lines, _ = run_cli(monkeypatch, ["--rules", str(rules_file)], posts)
    assert status == 0
    assert lines == [{"id": "1", "rules": ["pocky"]}, {"id": "2", "rules": ["pocky"]}]


def test_it_keeps_order_and_line_numbers_across_blocks(monkeypatch: pytest.MonkeyPatch, rules_file: Path) -> None:
    monkeypatch.setattr(match_cli, "BLOCK_SIZE", 64)
    posts = [{"id": str(i), "text": "pocky" if i % 3 else "なし"} for i in range(50)]
    data = jsonl(*posts[:20]) + b"oops\n" + jsonl(*posts[20:])
    status, lines, errors = run_cli(monkeypatch, ["--rules", str(rules_file)], data)
    assert status == 1
    assert [line["id"] for line in lines] == [str(i) for i in range(50)]
    assert [line["rules"] for line in lines] == [["pocky"] if i % 3 else [] for i in range(50)]
    assert errors.startswith("kizuna match: line 21: not valid JSON")


def test_it_writes_ids_as_valid_json(monkeypatch: pytest.MonkeyPatch, rules_file: Path) -> None:
    odd = ['quote " and \\ slash', "改行\nあり", "\ud83d", "", 10**20]
    data = b"".join(json.dumps({"id": i, "text": "x"}).encode() + b"\n" for i in odd)  # \ud83d needs escaping
    status, lines, _ = run_cli(monkeypatch, ["--rules", str(rules_file)], data)
    assert status == 0
    assert [line["id"] for line in lines] == odd


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("[[rules]\n", "invalid TOML"),
        ("rules = 1", "[[rules]] must be an array of tables"),
        ('[[rules]]\nquery = "a"', '[[rules]] #1: missing "id"'),
        ('[[rules]]\nid = "a"', '[[rules]] #1 (id "a"): missing "query"'),
        ('[[rules]]\nid = "a"\nquery = "a"\nbrand = 1', '[[rules]] #1 (id "a"): "brand" must be a non-empty string'),
        (
            '[[rules]]\nid = "pocky"\nquery = "(pocky OR ぽっきー"',
            "rule \"pocky\": position 14: expected ')' to close '(' opened at position 0",
        ),
        (
            '[[rules]]\nid = "a"\nquery = "x"\n[[rules]]\nid = "a"\nquery = "y"',
            '[[rules]]: id "a" is defined twice',
        ),
    ],
)
def test_it_exits_2_when_the_rules_cannot_be_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "rules.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    status, lines, errors = run_cli(monkeypatch, ["--rules", str(path)], jsonl({"id": "1", "text": "x"}))
    assert (status, lines) == (2, [])
    assert errors.startswith(f"kizuna match: {path}: ")
    assert message in errors


def test_it_needs_the_rules_option(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as raised:
        run_cli(monkeypatch, [], b"")
    assert raised.value.code == 2


def test_it_runs_as_a_module_without_django(rules_file: Path) -> None:
    script = (
        "import runpy, sys; sys.argv = ['kizuna match', '--rules', sys.argv[1]]\n"
        "try:\n    runpy.run_module('kizuna.core.match_cli', run_name='__main__')\n"
        "except SystemExit as done:\n    assert 'django' not in sys.modules, 'imported Django'; raise\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(rules_file)],
        input=jsonl({"id": "1", "text": "POCKY"}),
        capture_output=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == b'{"id": "1", "rules": ["pocky"]}\n'


def test_it_matches_the_benchmark_workload(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kizuna.core.bench_match import write_workload

    rules_path, posts_path = write_workload(tmp_path, posts=3000, rules=200, seed=7, brand_rate=0.2)
    status, lines, errors = run_cli(monkeypatch, ["--rules", str(rules_path)], posts_path.read_bytes())
    assert (status, errors) == (0, "")
    assert len(lines) == 3000
    assert 0.02 < sum(1 for line in lines if line["rules"]) / 3000 < 0.3
