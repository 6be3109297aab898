"""Real browser, real server: log in to the demo workspace and watch a post arrive live."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kizuna(env: dict[str, str], *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kizuna.cli", *args], env=env, cwd=REPO, text=True, capture_output=True, check=True, **kw
    )  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI must install Debian's chromium)")
        pytest.skip("Debian chromium not installed: apt-get install chromium fonts-noto-cjk")
    data = tmp_path_factory.mktemp("kizuna-data")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{data}/browser.sqlite3",
        "KIZUNA_DATA_DIR": str(data),
        "KIZUNA_LIVE_POLL_SECONDS": "0.3",
    }
    _kizuna(env, "demo", "--setup-only")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kizuna.cli", "serve", "--port", str(port), "--demo-rate", "0"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("server did not start: " + (proc.stdout.read() if proc.stdout else ""))
    yield base, env
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_it_shows_a_new_post_in_the_inbox_without_reload(server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, env = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="ja-JP")
        page.goto(base + "/")
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", "kizuna-demo")
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("受信箱")
        expect(page.locator("#live-state")).to_have_text("ライブ", timeout=10_000)
        page.evaluate("window.__noReload = true")
        before = page.locator(".case-row").count()
        assert before > 0, "the demo inbox shows cases"

        text = "サクッとの新しいほうじ茶味、ブラウザテストで見つけた！最高🍫"
        post = {
            "id": "browser-1",
            "text": text,
            "author": "browser_tester",
            "platform": "demo",
            "created_at": "2030-01-01T00:00:00Z",
        }
        posts = tmp_path / "new.jsonl"
        posts.write_text(json.dumps(post, ensure_ascii=False) + "\n", encoding="utf-8")
        _kizuna(env, "import", str(posts), "--workspace", "hidamari", "--no-progress")

        row = page.locator(".case-row", has_text="ブラウザテストで見つけた")
        expect(row).to_be_visible(timeout=15_000)
        assert page.evaluate("window.__noReload") is True, "the page did not reload"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=False)
        browser.close()
