"""A project's own template in a real browser: the framed task shows who is in it (pavilion_worker,
pavilion_assignment) and reports itself done with its task token (POST /task/<id>/done); the worker's page hears
`stop {"submitted": true}` and goes on to the submit page by itself. Screenshots under tests/e2e/task/artifacts/."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.models import EventLog
from pavilion.runtime.projects import parse_project

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(90),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (`make browser` installs it)"),
]

PROJECT = {
    "name": "template task",
    "policy": {"name": "pavilion", "min_active": 1, "max_active": 1, "min_waiting": 1, "max_waiting": 2},
    "platform": {"name": "local"},
    "pay": {"reward": "0.50", "waiting_wage_per_hour": "7.20", "active_wage_per_hour": "12"},
    "task": {"title": "Label together", "description": "Wait for a partner.", "max_waiting_s": 600},
}
TEMPLATE = """<!doctype html><html><body>
<p id="who">{{ pavilion_worker }} in {{ pavilion_assignment }}</p>
<button id="finish">I am done</button>
<script>
document.getElementById("finish").addEventListener("click", function () {
  fetch("/task/{{ project_id }}/done", {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({token: {{ pavilion_task_token|tojson }}})});
});
</script></body></html>"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    app = create_app({"ENV": "testing", "INSTANCE_PATH": str(tmp_path / "instance"),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}", "SECRET_KEY": "task-browser-secret",
                      "ASYNC_MODE": "threading", "BACKGROUND_TASKS": False})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)
        get_runtime(app).shutdown()


def test_the_framed_template_knows_its_worker_and_ends_the_stint(served: tuple[Flask, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    app, base = served
    runtime = get_runtime(app)
    project_id = runtime.service.create_project(parse_project(PROJECT))
    folder = Path(app.config["INSTANCE_PATH"]) / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{project_id}.html").write_text(TEMPLATE)
    runtime.service.launch(project_id)
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            first = browser.new_context().new_page()
            sent: list[str] = []  # what the page sends the server, over the websocket or by long-polling
            first.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
            first.on("request", lambda r: sent.append(r.post_data or "") if "/socket.io/" in r.url else None)
            first.goto(f"{base}/join/{project_id}")
            expect(first.locator("body")).to_have_attribute("data-state", "waiting")
            second = browser.new_context().new_page()
            second.goto(f"{base}/join/{project_id}")  # the job starts: the first worker is promoted
            expect(first.locator("body")).to_have_attribute("data-state", "active")
            key = runtime.service.snapshot(project_id)["active"][0]
            frame = first.frame_locator("#task-frame")
            expect(frame.locator("#who")).to_contain_text(f" in {key}")
            first.screenshot(path=str(ARTIFACTS / "template-task.png"))
            frame.locator("#finish").click()  # the task reports the worker done; the page submits by itself
            expect(first).to_have_url(re.compile(re.escape(f"{base}/task/{project_id}/done") + r"\?token="))
            expect(first.locator("#message")).to_contain_text("Your work is submitted")
            first.screenshot(path=str(ARTIFACTS / "template-task-done.png"))
            expect(second.locator("body")).to_have_attribute("data-state", "waiting")
            assert any("heartbeat" in frame or "ready" in frame for frame in sent), sent  # the capture works
            assert not any('"leave"' in frame for frame in sent)  # recorded by the task: no second `leave`
        finally:
            browser.close()

    with runtime.db.session_scope() as session:
        found = session.scalars(select(EventLog).where(EventLog.project_id == project_id, EventLog.worker == key))
        rows = [(e.event, e.detail) for e in found]
    assert [row for row in rows if row[0] in ("submitted", "returned", "abandoned")] == [("submitted", "task")]
