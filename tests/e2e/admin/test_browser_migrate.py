"""In a real browser: an admin logs in, creates and launches a project, a worker page joins the waiting room,
the admin migrates that worker from the live dashboard, the worker's page shows the task, and stopping the job
makes the worker's page submit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
USERNAME, PASSWORD = "grace", "browser-test-password"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(90),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (`make browser` installs it)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pavilion(args: list[str], env: dict[str, str], stdin: str = "") -> None:
    cmd = [sys.executable, "-m", "pavilion.cli", *args]
    subprocess.run(cmd, env=env, input=stdin, text=True, capture_output=True, timeout=60, check=True)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`pavilion serve` (eventlet) on a free loopback port with a fresh instance folder and one admin."""
    env = {**os.environ, "PAVILION_INSTANCE_PATH": str(tmp_path), "PAVILION_ENV": "development"}
    _pavilion(["admin", "create-user", USERNAME, "--password-stdin"], env, stdin=PASSWORD + "\n")
    port = _free_port()
    cmd = [sys.executable, "-m", "pavilion.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start listening"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_admin_migrates_a_waiting_worker_who_then_sees_the_task_until_the_stop(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            admin = browser.new_context().new_page()
            admin.goto(f"{server}/admin/projects")
            assert "/admin/login?next=" in admin.url
            admin.fill("#username", USERNAME)
            admin.fill("#password", PASSWORD)
            admin.click("#login-button")
            expect(admin).to_have_url(f"{server}/admin/projects")

            admin.click("#new-project")
            admin.fill("#name", "Browser session")
            admin.fill("#description", "One worker, moved by hand.")
            for field, value in {"min_active": "1", "max_active": "1", "min_waiting": "1", "max_waiting": "3"}.items():
                admin.fill(f"#{field}", value)
            admin.click("#save-project")
            expect(admin.locator("#project-status")).to_have_text("draft")
            admin.click("#launch-button")
            expect(admin.locator("#project-status")).to_have_text("live")
            expect(admin.locator("#live-dot")).to_have_class("live-dot on")  # the /admin socket is connected

            worker = browser.new_context().new_page()
            worker.goto(admin.locator("#join-link").get_attribute("href") or "")
            expect(worker.locator("body")).to_have_attribute("data-state", "waiting")
            expect(worker.locator("#position")).to_have_text("1")

            # The dashboard learns of the join over the socket, without a reload.
            entry = admin.locator("#waiting-queue li[data-worker]")
            expect(entry).to_have_count(1)
            expect(admin.locator("#count-waiting")).to_have_text("1")
            worker_id = entry.get_attribute("data-worker")
            entry.locator("button").click()

            expect(worker.locator("body")).to_have_attribute("data-state", "active")
            expect(worker.locator("#task-frame, #demo-task").first).to_be_visible()
            expect(admin.locator(f'#active-queue li[data-worker="{worker_id}"]')).to_have_count(1)
            expect(admin.locator("#event-stream")).to_contain_text("promoted")
            admin.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            worker.screenshot(path=str(tmp_path / "worker.png"), full_page=True)

            # Stopping asks first, then every worker's page submits itself.
            admin.once("dialog", lambda dialog: dialog.accept())
            admin.click("#stop-button")
            expect(admin.locator("#project-status")).to_have_text("stopped")
            expect(worker.locator("body")).to_have_attribute("data-state", "stopped")
        finally:
            browser.close()
