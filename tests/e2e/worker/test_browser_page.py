"""The live page in a real browser: waiting room, promotion to the demo task, a reload that keeps the place,
'leave and get paid', and a stop after which the page submits itself."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.projects import parse_project

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(90),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (`make browser` installs it)"),
]

PROJECT = {
    "name": "browser session",
    "policy": {"name": "pavilion", "min_active": 1, "max_active": 1, "min_waiting": 1, "max_waiting": 2},
    "platform": {"name": "local"},
    "pay": {"reward": "0.50", "waiting_wage_per_hour": "7.20", "active_wage_per_hour": "12"},
    "task": {"title": "Label together", "description": "Wait for a partner.", "max_waiting_s": 0},
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The app (threading mode, the real clock) behind a threaded HTTP server on a free loopback port."""
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}",
            "SECRET_KEY": "worker-browser-secret",
            "ASYNC_MODE": "threading",
            "BACKGROUND_TASKS": False,
        }
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)
        get_runtime(app).shutdown()


def test_the_page_follows_the_session_and_submits_itself(served: tuple[Flask, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    app, base = served
    service = get_runtime(app).service
    project_id = service.create_project(parse_project(PROJECT))
    service.launch(project_id)
    done_url = f"{base}/task/{project_id}/done"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            first = browser.new_context().new_page()
            first.goto(f"{base}/join/{project_id}")
            expect(first.locator("body")).to_have_attribute("data-state", "waiting")
            expect(first.locator("#position")).to_have_text("1")
            expect(first.locator("#queue-name")).to_have_text("Waiting room")

            second = browser.new_context().new_page()
            second.goto(f"{base}/join/{project_id}")  # the job starts: the first worker is promoted
            expect(first.locator("body")).to_have_attribute("data-state", "active")
            expect(first.locator("#demo-task")).to_be_visible()
            expect(first.locator("#task-frame")).to_have_count(0)
            expect(second.locator("body")).to_have_attribute("data-state", "waiting")
            expect(second.locator("#active-count")).to_have_text("1")

            first.reload()  # within the grace: the same place, on the task
            expect(first.locator("body")).to_have_attribute("data-state", "active")
            expect(first.locator("#demo-task")).to_be_visible()
            first.locator(".demo-item").first.locator("button[data-label=positive]").click()
            expect(first.locator("#demo-done")).to_have_text("1")

            second.locator("#leave-button").click()  # the project lets waiting workers leave with pay at once
            expect(second).to_have_url(re.compile(re.escape(done_url) + r"\?token="))
            expect(second.locator("#message")).to_contain_text("Your work is submitted")

            service.stop(project_id)  # the page is told to stop and posts the submit form by itself
            expect(first).to_have_url(re.compile(re.escape(done_url) + r"\?token="))
        finally:
            browser.close()

    snap = service.snapshot(project_id)
    assert snap["status"] == "stopped" and snap["counts"]["submitted"] == 2 and snap["counts"]["present"] == 0
