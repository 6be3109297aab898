from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kizuna.brands.config import do_load_config, dump_config, workspace_config
from kizuna.brands.models import Brand, Department, Rule
from kizuna.core.config import ConfigError, load_config_file, parse_config
from tests.conftest import DEMO_CONFIG, Cast


def test_it_loads_the_demo_workspace(cast: Cast) -> None:
    assert set(Brand.objects.filter(workspace=cast.ws).values_list("key", flat=True)) == {"sakutto", "hidamari"}
    names = set(Department.objects.filter(workspace=cast.ws).values_list("name", flat=True))
    assert {"営業", "広報", "システム管理", "商品企画", "物流", "お客様相談室"} <= names
    assert Rule.objects.filter(workspace=cast.ws, brand__key="sakutto").exists()


def test_it_round_trips_dump_and_load(cast: Cast, tmp_path: Path) -> None:
    before = workspace_config(cast.ws)
    text = dump_config(cast.ws)
    path = tmp_path / "kizuna.toml"
    path.write_text(text, encoding="utf-8")
    ws = do_load_config(load_config_file(path), path=str(path))
    assert ws.pk == cast.ws.pk
    assert workspace_config(ws) == before
    assert dump_config(ws) == text


def test_it_removes_what_the_file_no_longer_has(cast: Cast, tmp_path: Path) -> None:
    text = DEMO_CONFIG.read_text(encoding="utf-8").replace('id = "sakutto-flavours"', 'id = "sakutto-flavors"')
    path = tmp_path / "k.toml"
    path.write_text(text, encoding="utf-8")
    do_load_config(load_config_file(path))
    keys = set(Rule.objects.filter(workspace=cast.ws).values_list("key", flat=True))
    assert "sakutto-flavors" in keys and "sakutto-flavours" not in keys


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"rules": [{"id": "r1", "brand": "nope", "query": "x"}]},
            '[[rules]] #1 (id "r1"): brand "nope" is not defined',
        ),
        ({"brands": [{"id": "Bad Id", "name": "x"}]}, "[[brands]] #1: \"id\" = 'Bad Id' must be lower-case"),
        ({"brands": [{"id": "b"}]}, '[[brands]] #1 (id "b"): missing "name"'),
        ({"departments": [{"id": "d", "name": "x"}, {"id": "d", "name": "y"}]}, 'id "d" is defined twice'),
        ({"business_hours": {"mon": "9-18"}}, "[business_hours] mon = '9-18': expected \"HH:MM-HH:MM\""),
        ({"routing": [{"department": "ghost"}]}, '[[routing]] #1: department "ghost" is not defined'),
    ],
)
def test_it_names_what_is_wrong_and_where(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(doc, "k.toml")
    assert message in str(exc.value)
    assert str(exc.value).startswith("k.toml: ")


def test_it_rejects_a_rule_that_does_not_parse(db: None, tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text('[workspace]\nslug = "w"\n[[rules]]\nid = "r"\nquery = "(a OR"\n', encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("config", "load", str(path))
    assert 'rule "r"' in str(exc.value) or "r" in str(exc.value)


def test_it_dumps_from_the_command_line(cast: Cast) -> None:
    out = io.StringIO()
    call_command("config", "dump", "--workspace", "hidamari", stdout=out)
    assert '[[brands]]\nid = "sakutto"' in out.getvalue()
    assert '[[departments]]\nid = "customer-care"\nname = "お客様相談室"' in out.getvalue()
    assert out.getvalue().startswith("[workspace]\n") and "departments = [" not in out.getvalue()
