"""The admin pages in chromium against `pavilion serve` (issue 15 item 7): every form error at once, active over
max_active after a forced migration, each worker connected or away, and the banner while the dashboard's socket is
down (the server killed, then started again on the same port). Screenshots go to tests/e2e/admin/artifacts/
(ignored by git)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
USERNAME, PASSWORD = "grace", "browser-test-password"
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (`make browser` installs it)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`pavilion serve` on a fixed loopback port over one instance folder, which can be killed and started again."""

    def __init__(self, folder: Path, args: tuple[str, ...] = ()) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = args
        # A long grace: a closed worker page stays "away" for the whole test instead of being abandoned.
        self.env = {**os.environ, "PAVILION_INSTANCE_PATH": str(folder), "PAVILION_ENV": "development",
                    "PAVILION_ABANDON_GRACE_S": "120", "PAVILION_PUBLIC_URL": self.url,
                    "AWS_ACCESS_KEY_ID": "e2e", "AWS_SECRET_ACCESS_KEY": "e2e", "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        self.proc: subprocess.Popen[bytes] | None = None
        cmd = [sys.executable, "-m", "pavilion.cli", "admin", "create-user", USERNAME, "--password-stdin"]
        subprocess.run(cmd, env=self.env, input=PASSWORD + "\n", text=True, capture_output=True, timeout=60,
                       check=True)

    def start(self) -> None:
        cmd = [sys.executable, "-m", "pavilion.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               *self.args]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.proc.stderr.read().decode() if self.proc.stderr else "exited"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "the server did not start listening"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def logged_in(browser: Any, server: Server) -> Any:
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.goto(server.url + "/")  # the root leads to the admin, which asks for a login first
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    expect(page).to_have_url(f"{server.url}/admin/projects")
    return page


def new_project(admin: Any, sizes: dict[str, str]) -> None:
    from playwright.sync_api import expect

    admin.click("#new-project")
    admin.fill("#name", "Browser session")
    for field, value in sizes.items():
        admin.fill(f"#{field}", value)
    admin.click("#save-project")
    expect(admin.locator("#project-status")).to_have_text("draft")


def test_every_form_error_is_listed_at_once(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    admin = logged_in(browser, server)
    admin.click("#new-project")
    expect(admin.locator("#platform")).to_have_value("local")  # the server's platform (serve's default)
    admin.fill("#name", "")
    admin.fill("#max_active", "1")  # below min_active 2
    admin.fill("#max_waiting", "0")  # below min_waiting 1
    admin.fill("#reward", "-1")
    admin.fill("#platform_settings", '{"colour": "blue"}')
    admin.click("#save-project")
    summary = admin.locator("#form-errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("5 problems to fix; nothing was saved")
    items = summary.locator("li")
    expect(items).to_have_count(5)
    fields = [items.nth(i).get_attribute("data-field") for i in range(5)]
    assert fields == ["name", "max_active", "max_waiting", "platform_settings", "reward"]
    expect(items.nth(1)).to_contain_text("max_active: max_active (1) must be >= min_active (2)")
    expect(items.nth(2)).to_contain_text("max_waiting: max_waiting (0) must be >= min_waiting (1)")
    expect(items.nth(3)).to_contain_text("platform.colour is not a local platform setting")
    expect(items.nth(0)).to_contain_text("Name:")
    expect(admin.locator(".field-error")).to_have_count(5)  # and each beside its field
    shot(admin, "form-errors")


def test_forced_migration_over_max_active_and_connected_or_away(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    admin = logged_in(browser, server)
    new_project(admin, {"min_active": "1", "max_active": "1", "min_waiting": "1", "max_waiting": "3"})
    admin.click("#launch-button")
    expect(admin.locator("#project-status")).to_have_text("live")
    expect(admin.locator(".flash-success")).to_contain_text("Launched: share the join link")
    expect(admin.locator("#live-dot")).to_have_class("live-dot on")
    link = admin.locator("#join-link").get_attribute("href") or ""

    workers = []
    for _ in range(2):
        page = browser.new_context().new_page()
        page.goto(link)
        expect(page.locator("body")).to_have_attribute("data-state", re.compile("waiting|active"))
        workers.append(page)
    expect(admin.locator("#active-queue li[data-worker]")).to_have_count(1)
    expect(admin.locator("#waiting-queue li[data-worker]")).to_have_count(1)
    expect(admin.locator(".queue li[data-worker] .presence-connected")).to_have_count(2)
    expect(admin.locator("#over-max")).to_be_hidden()

    # Force the waiting worker onto the full active queue: 2 active for a max_active of 1, and the page says so.
    waiting = admin.locator("#waiting-queue li[data-worker]")
    moved = waiting.get_attribute("data-worker")
    assert moved
    admin.check("input[name=force]")
    waiting.locator("button").click()
    expect(admin.locator(f'#active-queue li[data-worker="{moved}"]')).to_have_count(1)
    expect(admin.locator("#over-max")).to_be_visible()
    assert " ".join(admin.locator("#over-max").inner_text().split()) == \
        "active 2 / 1 (over max_active after a forced migration)"
    expect(admin.locator("#active-box")).to_have_class(re.compile(r"\bover\b"))
    expect(admin.locator("#count-active")).to_have_text("2")

    # One worker closes the tab: away (its place is kept within the grace), the other stays connected.
    workers[0].close()
    away = admin.locator(".queue li[data-worker]:has(.presence-away)")
    expect(away).to_have_count(1)
    away_key = away.get_attribute("data-worker")
    assert away_key
    expect(admin.locator(".queue li[data-worker] .presence-connected")).to_have_count(1)
    expect(admin.locator("#active-queue li[data-worker]")).to_have_count(2)  # still seated
    shot(admin, "over-max-and-away")

    admin.reload()  # what the server renders agrees with what the socket drew
    expect(admin.locator("#over-max")).to_be_visible()
    expect(admin.locator(f'li[data-worker="{away_key}"] .presence')).to_have_text("away")
    expect(admin.locator(".queue li[data-worker] .presence-connected")).to_have_count(1)


def test_the_dashboard_says_when_its_connection_is_lost_and_when_it_is_back(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    admin = logged_in(browser, server)
    new_project(admin, {"min_active": "1", "max_active": "2", "min_waiting": "1", "max_waiting": "3"})
    admin.click("#launch-button")
    expect(admin.locator("#project-status")).to_have_text("live")
    expect(admin.locator("#live-dot")).to_have_class("live-dot on")
    banner = admin.locator("#connection-banner")
    expect(banner).to_be_hidden()

    server.stop()  # the server goes away: the socket drops
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Connection lost, reconnecting")
    expect(admin.locator("#live-dot")).to_have_class("live-dot")
    shot(admin, "connection-lost")

    server.start()  # back on the same port with the same database and secret: the page reconnects by itself
    expect(banner).to_be_hidden(timeout=30_000)
    expect(admin.locator("#live-dot")).to_have_class("live-dot on")
    worker = browser.new_context().new_page()  # and the dashboard, never reloaded, follows the project again
    worker.goto(admin.locator("#join-link").get_attribute("href") or "")
    expect(worker.locator("body")).to_have_attribute("data-state", "waiting")
    expect(admin.locator("#waiting-queue li[data-worker]")).to_have_count(1)
    expect(admin.locator("#event-stream")).to_contain_text("joined")
    shot(admin, "connection-back")


@pytest.fixture
def mturk_emulator(tmp_path: Path) -> Iterator[str]:
    """`pavilion emulate mturk` on a free loopback port."""
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "e2e", "AWS_SECRET_ACCESS_KEY": "e2e"}
    cmd = [sys.executable, "-m", "pavilion.cli", "emulate", "mturk", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "the emulator exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the emulator did not start listening"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("reachable", [True, False], ids=["posted", "unreachable"])
def test_serve_platform_mturk_makes_mturk_projects_and_launch_says_what_was_posted(
    tmp_path: Path, browser: Any, mturk_emulator: str, reachable: bool
) -> None:
    from playwright.sync_api import expect

    endpoint = mturk_emulator if reachable else f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    server = Server(tmp_path, ("--platform", "mturk", "--mturk-endpoint", endpoint))
    server.start()
    try:
        admin = logged_in(browser, server)
        admin.click("#new-project")
        expect(admin.locator("#platform")).to_have_value("mturk")  # the server's platform, untouched by the test
        admin.fill("#name", "Posted session")
        admin.click("#save-project")
        expect(admin.locator("#project-status")).to_have_text("draft")
        expect(admin.locator("p.muted").first).to_contain_text("platform mturk")
        admin.click("#launch-button")
        expect(admin.locator("#project-status")).to_have_text("live")
        flash = admin.locator(".flashes .flash").first
        if reachable:
            expect(flash).to_have_class(re.compile("flash-success"))
            expect(flash).to_have_text(re.compile(r"^Launched: posted on MTurk as HITs? \w+"))
        else:
            expect(flash).to_have_class(re.compile("flash-error"))
            expect(flash).to_contain_text("Launched, but posting on MTurk failed")
            expect(admin.locator("#platform-calls")).to_contain_text("hire")
        assert "the task is posted" not in flash.inner_text()
        shot(admin, f"launch-mturk-{'posted' if reachable else 'unreachable'}")
    finally:
        server.stop()
