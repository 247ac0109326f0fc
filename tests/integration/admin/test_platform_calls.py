"""The project page's "Platform calls" panel: failed and retrying outbox rows with their errors, escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from pavilion.runtime.context import get_runtime
from pavilion.runtime.models import Outbox

from .conftest import make_project

REFUSAL = 'Prolific answered 400: {"error": "<script>alert(1)</script> & no funds"}'
ESCAPED = "Prolific answered 400: {&#34;error&#34;: &#34;&lt;script&gt;alert(1)&lt;/script&gt; &amp; no funds&#34;}"


def add_call(app: Flask, project_id: int, key: str, status: str, error: str = "", minutes: int = 0) -> None:
    created = datetime(2026, 1, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    row = Outbox(project_id=project_id, kind="pay", payload={"payment_id": 0}, key=key, status=status,
                 attempts=3 if error else 1, last_error=error, created_at=created)
    with get_runtime(app).db.session_scope(lock=True) as session:
        session.add(row)


def panel(client: FlaskClient, project_id: int) -> str:
    page = client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    start = page.index('<section class="panel" id="platform-calls">')
    return page[start:page.index("</section>", start)]


def test_failed_and_retrying_calls_are_listed_newest_first_with_their_errors_escaped(
    app: Flask, admin_client: FlaskClient
) -> None:
    project_id = make_project(app)
    add_call(app, project_id, "refused", "failed", REFUSAL, minutes=1)
    add_call(app, project_id, "retrying", "pending", "ConnectionError: timed out", minutes=2)
    add_call(app, project_id, "went-through", "done", minutes=3)
    add_call(app, project_id, "not-tried-yet", "pending", minutes=4)
    add_call(app, make_project(app), "elsewhere", "failed", "another project's error")

    html = panel(admin_client, project_id)
    assert ESCAPED in html and "<script>" not in html
    assert html.index("ConnectionError: timed out") < html.index(ESCAPED)  # newest first
    assert html.count("<tr data-id=") == 2 and "another project" not in html
    assert "2026-01-01 12:01:00" in html and 'badge-failed">failed' in html and 'badge-pending">pending' in html
    assert "platform-calls-ok" not in html


def test_a_healthy_project_shows_only_the_all_clear_line(app: Flask, admin_client: FlaskClient) -> None:
    project_id = make_project(app)
    get_runtime(app).service.launch(project_id)  # the local platform's hire goes through
    add_call(app, project_id, "went-through", "done", minutes=1)

    html = panel(admin_client, project_id)
    assert 'id="platform-calls-ok"' in html and "<table>" not in html
