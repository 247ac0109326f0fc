"""The live page in chromium (issue 15 items 2-4): what the waiting room says, how a promotion is noticed, `ready`
only once the worker looks at the task, a departure learnt from the platform, and the thank-you with the pay.
Screenshots go to tests/e2e/worker/artifacts/ (ignored by git)."""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.eventlog import event_csv
from pavilion.runtime.models import Assignment
from pavilion.runtime.platforms.base import Departure
from pavilion.runtime.projects import parse_project

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--autoplay-policy=user-gesture-required"]
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (`make browser` installs it)"),
]

PROJECT = {
    "name": "alerts session",
    "policy": {"name": "pavilion", "min_active": 1, "max_active": 1, "min_waiting": 2, "max_waiting": 3},
    "platform": {"name": "local"},
    "pay": {"reward": "0.50", "waiting_wage_per_hour": "7.20", "active_wage_per_hour": "12"},
    "task": {"title": "Label together", "description": "Wait for your partners.", "max_waiting_s": 600},
}

# The page's own view of where the worker looks, switchable by the test; and a spy on the real Notification.
LOOKING = """
window.__looking = true;
Object.defineProperty(Document.prototype, "visibilityState",
  { get() { return window.__looking ? "visible" : "hidden"; }, configurable: true });
Document.prototype.hasFocus = function () { return window.__looking; };
window.__notes = [];
if (window.Notification) {
  window.Notification = new Proxy(window.Notification, {
    construct(target, args) { window.__notes.push(args[0]); return new target(...args); }
  });
}
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The app (threading mode, the real clock) behind a threaded HTTP server on a free loopback port."""
    app = create_app({
        "ENV": "testing",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}",
        "SECRET_KEY": "worker-alerts-secret",
        "ASYNC_MODE": "threading",
        "BACKGROUND_TASKS": False,
    })
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)
        get_runtime(app).shutdown()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def ready_rows(app: Flask, project_id: int) -> list[dict[str, str]]:
    with get_runtime(app).db.session_scope() as session:
        rows = list(csv.DictReader(io.StringIO(event_csv(session, project_id))))
    return [row for row in rows if row["event"] == "ready"]


def test_waiting_room_promotion_notice_ready_left_and_thanks(served: tuple[Flask, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    app, base = served
    service = get_runtime(app).service
    project_id = service.create_project(parse_project(PROJECT))
    service.launch(project_id)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 900, "height": 900})
            context.grant_permissions(["notifications"], origin=base)
            context.add_init_script(LOOKING)
            first = context.new_page()
            first.goto(f"{base}/join/{project_id}")
            expect(first.locator("body")).to_have_attribute("data-state", "waiting")
            # Before the start: 3 needed (min_active 1 + min_waiting 2), one here.
            expect(first.locator("#start-note")).to_have_text(re.compile(r"starts when 3 are here:\s+2 more needed"))
            expect(first.locator("#position-label")).to_have_text("your place in the waiting queue")
            expect(first.locator("#leave-countdown")).to_have_text("10 minutes")
            expect(first.locator("#waited")).to_have_text(re.compile(r"^0 min [1-9]\d? s$"), timeout=5000)

            second = browser.new_context().new_page()
            second.goto(f"{base}/join/{project_id}")
            expect(first.locator("#needed")).to_have_text("1")
            expect(second.locator("#start-note")).to_contain_text("1 more needed")

            first.locator("#sound-button").click()  # the gesture that lets the page make a sound
            expect(first.locator("body")).to_have_attribute("data-beeped", "1")
            expect(first.locator("#alert-status")).to_have_text("Sound on. Desktop notification on.")
            shot(first, "waiting-room")

            first.evaluate("window.__looking = false")  # the worker looks away (another tab)
            title = first.title()
            third = browser.new_context().new_page()
            third.goto(f"{base}/join/{project_id}")  # 3 here: the job starts, the first worker is promoted
            expect(first.locator("body")).to_have_attribute("data-state", "active")
            expect(first.locator("#position-label")).to_have_text("your seat on the task")
            expect(first.locator("body")).to_have_attribute("data-beeped", "2")
            first.wait_for_function("() => window.__notes.length === 1")
            first.wait_for_function("t => document.title !== t", arg=title)  # flashing: the title changes
            assert "Your turn" in first.evaluate("window.__notes[0]")
            first.wait_for_timeout(1500)  # the title keeps flashing and nothing says ready while nobody looks
            assert first.get_attribute("body", "data-ready") is None
            assert ready_rows(app, project_id) == []
            expect(second.locator("#start-note")).to_be_hidden()  # started: no more "needed"

            first.evaluate("window.__looking = true; document.dispatchEvent(new Event('visibilitychange'))")
            expect(first.locator("body")).to_have_attribute("data-ready", "sent")
            rows = None
            for _ in range(50):
                rows = ready_rows(app, project_id)
                if rows:
                    break
                first.wait_for_timeout(100)
            assert rows and len(rows) == 1
            first.wait_for_function("t => document.title === t", arg=title)  # looked at: the title settles
            shot(first, "promoted")

            # The platform reports that the second worker returned (e.g. found by reconciliation).
            with service.db.session_scope() as session:
                waiting = session.scalars(select(Assignment).where(
                    Assignment.project_id == project_id, Assignment.queue == "waiting").order_by(Assignment.id)).first()
                assert waiting is not None
                ids = (waiting.worker.platform_worker_id, waiting.platform_assignment_id)
            assert service.platform_departure(project_id, Departure(*ids, "returned", key="reconcile-1"),
                                              source="reconcile")
            expect(second.locator("body")).to_have_attribute("data-state", "stopped")
            expect(second.locator("#stopped-message")).to_contain_text("you returned this task")
            expect(second.locator("#left-message")).to_contain_text("Pay stopped counting at $")
            shot(second, "left-by-platform")

            first.locator("#submit-button").click()
            expect(first).to_have_url(re.compile(rf"{re.escape(base)}/task/{project_id}/done\?token="))
            expect(first.locator("#earned-total")).to_contain_text(re.compile(r"You earned \$0\.5\d"))
            expect(first.locator("#earned-total")).to_contain_text("$0.50 reward")
            expect(first.locator("#how-paid")).to_contain_text("lab session")
            shot(first, "thanks")
        finally:
            browser.close()
