"""Local join links (issue 15 item 5): one browser, one stint; a joiner turned away is a counted `rejected` row."""

from __future__ import annotations

import csv
import io

from flask import Flask
from flask.testing import FlaskClient

from pavilion.runtime.context import Runtime
from pavilion.runtime.eventlog import event_csv

from .conftest import make_project


def open_link(client: FlaskClient, project_id: int) -> tuple[int, str]:
    """Follow the join link to its last page: (status, the live page's address or the refusal's text)."""
    response = client.get(f"/join/{project_id}")
    while response.status_code in (302, 303):
        location = response.location
        response = client.get(location)
        if "/live?token=" in location:
            return response.status_code, location
    return response.status_code, response.get_data(as_text=True)


def rejected_rows(runtime: Runtime, project_id: int) -> list[str]:
    with runtime.db.session_scope() as session:
        rows = csv.DictReader(io.StringIO(event_csv(session, project_id)))
        return [row["detail"] for row in rows if row["event"] == "rejected"]


def test_the_same_browser_opening_the_link_twice_keeps_its_one_stint(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    browser = app.test_client()
    first = open_link(browser, project_id)
    again = open_link(browser, project_id)
    assert first[0] == again[0] == 200 and again[1] == first[1]  # the same live page, the same token
    other = open_link(app.test_client(), project_id)  # another browser: another stint
    assert other[0] == 200 and other[1] != first[1]
    assert runtime.service.snapshot(project_id)["counts"]["joined"] == 2


def test_turned_away_joiners_are_logged_as_rejected_with_their_reason_and_counted(
    app: Flask, runtime: Runtime
) -> None:
    project_id = make_project(runtime, min_active=1, max_active=1, min_waiting=0, max_waiting=0)
    assert open_link(app.test_client(), project_id)[0] == 200  # the one place
    status, text = open_link(app.test_client(), project_id)
    assert status == 403 and "no open place" in text.lower()
    runtime.service.expire(project_id)  # recruitment closes
    status, text = open_link(app.test_client(), project_id)
    assert status == 403 and "closed" in text.lower()
    assert rejected_rows(runtime, project_id) == ["full", "closed"]
    counts = runtime.service.snapshot(project_id)["counts"]
    assert counts["rejected"] == 2 and counts["joined"] == 1
