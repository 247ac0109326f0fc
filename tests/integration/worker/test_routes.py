"""Worker HTTP routes: join link, task link, preview, live page, and a clear refusal for every bad input."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import Flask

from pavilion.runtime.context import Runtime
from pavilion.runtime.platforms.base import (
    Identity,
    PlatformAssignment,
    PlatformError,
    PlatformProject,
    Preview,
    SubmitForm,
)
from pavilion.runtime.tokens import WorkerClaim
from pavilion.runtime.worker.side import get_worker_side

from .conftest import ManualClock, TurkLikePlatform, assignment, enter, make_project, table_counts


class AlwaysOpen(TurkLikePlatform):
    """A platform that lets anyone through, so a join reaches the policy when the queues are full."""

    def identify(self, project: PlatformProject, args: Mapping[str, str]) -> Identity | Preview:
        return Identity(worker_id=args.get("worker", "late-comer"), assignment_id="late")

    def admit(self, project: PlatformProject, identity: Identity) -> None:
        return None


def test_the_join_link_gives_a_new_lab_identity_then_the_live_waiting_room(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, task={"title": "Label together", "description": "Wait, then label."})
    client = app.test_client()
    joined = client.get(f"/join/{project_id}")
    assert joined.status_code == 303 and f"/task/{project_id}?worker=L" in joined.location
    task = client.get(joined.location)
    assert task.status_code == 303 and f"/task/{project_id}/live?token=" in task.location
    page = client.get(task.location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-state="waiting"' in html
    assert '<meta name="pavilion-token"' in html and "Wait, then label." in html
    for element in ("queue-name", "position", "waiting-count", "active-count", "earned", "leave-button",
                    "task-frame", "demo-task"):
        assert f'id="{element}"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "/worker/static/vendor/socket.io.min.js" in html
    assert runtime.service.snapshot(project_id)["counts"]["waiting"] == 1


def test_a_reload_of_the_live_page_keeps_the_place_and_shows_pay_from_the_server_clock(
    app: Flask, runtime: Runtime, clock: ManualClock
) -> None:
    project_id = make_project(runtime)
    entered = enter(app, project_id)
    clock.advance(600)  # ten minutes at $7.20/h waiting
    before = table_counts(runtime)
    again = app.test_client().get(entered.live_url)
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and 'id="earned">$1.20<' in html
    assert re.search(r'id="position"[^>]*>1<', html)
    assert table_counts(runtime) == before  # no second join


def test_the_same_platform_identity_twice_is_one_stint(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    browser = app.test_client()  # a reload is the same browser: it shows its cookie
    first = enter(app, project_id, browser, worker="lab-7")
    second = enter(app, project_id, browser, worker="lab-7")
    assert first.key == second.key
    assert runtime.service.snapshot(project_id)["counts"]["joined"] == 1


def test_a_promoted_worker_sees_the_task_area_and_the_platform_submit_form(app: Flask, runtime: Runtime) -> None:
    runtime.service.platform_factory = lambda name, settings, config: TurkLikePlatform(settings, config)
    project_id = make_project(runtime, task={"url": "https://task.test/live"})
    first = enter(app, project_id)
    enter(app, project_id)  # min_active 1 + min_waiting 1: the job starts, the first worker is promoted
    html = app.test_client().get(first.live_url).get_data(as_text=True)
    assert 'data-state="active"' in html and 'data-task-url="https://task.test/live?pavilion_worker=' in html
    assert 'action="https://turk.test/mturk/externalSubmit" method="POST"' in html
    assert f'name="assignmentId" value="{assignment(runtime, first.key).platform_assignment_id}"' in html


def test_the_local_platform_submits_to_the_thank_you_page(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    html = enter(app, project_id).html
    assert f'action="/task/{project_id}/done" method="GET"' in html
    done = app.test_client().get(f"/task/{project_id}/done")
    assert done.status_code == 200 and "Your work is submitted" in done.get_data(as_text=True)


def test_a_preview_shows_the_description_and_never_joins(app: Flask, runtime: Runtime) -> None:
    runtime.service.platform_factory = lambda name, settings, config: TurkLikePlatform(settings, config)
    project_id = make_project(runtime)
    before = table_counts(runtime)
    page = app.test_client().get(f"/task/{project_id}?assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE&hitId=H1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-state="preview"' in html and "Wait, then label." in html
    assert "pavilion-token" not in html
    assert table_counts(runtime) == before


def test_a_worker_the_policy_rejects_gets_the_rejected_page(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, min_active=1, max_active=1, min_waiting=1, max_waiting=1)
    enter(app, project_id)
    enter(app, project_id)  # started: one active, one waiting: full
    runtime.service.platform_factory = lambda name, settings, config: AlwaysOpen(settings, config)
    runtime.service._platforms.clear()
    page = app.test_client().get(f"/task/{project_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-state="rejected"' in html and "the session is full" in html
    assert "pavilion-token" not in html


def _refused(app: Flask, url: str, status: int, message: str) -> None:
    page = app.test_client().get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == status, html
    assert message.lower() in html.lower() and "pavilion-token" not in html


def test_bad_task_links_get_a_clear_page_and_change_nothing(app: Flask, runtime: Runtime) -> None:
    draft = make_project(runtime, launch=False)
    live = make_project(runtime, platform={"name": "local", "roster": ["ann", "bob"]})
    before = table_counts(runtime)
    _refused(app, "/task/999", 404, "no project 999")
    _refused(app, f"/task/{draft}", 409, "this session has not started yet")
    _refused(app, f"/task/{live}", 403, "needs your lab id")
    _refused(app, f"/task/{live}?worker=eve", 403, "not on this session")
    _refused(app, f"/task/{live}?worker=" + "a" * 600, 400, "too long")
    many = "&".join(f"k{i}=v" for i in range(40))
    _refused(app, f"/task/{live}?{many}", 400, "more than 32 parameters")
    _refused(app, f"/join/{live}?worker=" + "b" * 65, 400, "longer than 64")
    _refused(app, "/join/999", 404, "no project 999")
    assert table_counts(runtime) == before
    assert app.test_client().get("/task/abc").status_code == 404


def test_bad_live_links_are_refused(app: Flask, runtime: Runtime, clock: ManualClock) -> None:
    project_id = make_project(runtime)
    other = make_project(runtime)
    entered = enter(app, project_id)
    tokens = get_worker_side(app).tokens
    before = table_counts(runtime)
    _refused(app, f"/task/{project_id}/live", 403, "a worker token is required")
    _refused(app, f"/task/{project_id}/live?token={entered.token}x", 403, "not valid")
    _refused(app, f"/task/{other}/live?token={entered.token}", 403, "belongs to another session")
    stolen = tokens.issue(WorkerClaim(project_id, entered.key, "someone-else"))
    _refused(app, f"/task/{project_id}/live?token={stolen}", 403, "belongs to another worker")
    unknown = tokens.issue(WorkerClaim(project_id, "no-such-key", "x"))
    _refused(app, f"/task/{project_id}/live?token={unknown}", 404, "names no place")
    clock.advance(float(app.config["TOKEN_MAX_AGE_S"]) + 1)
    _refused(app, entered.live_url, 403, "expired")
    assert table_counts(runtime) == before


class Unreachable(TurkLikePlatform):
    """A platform whose API is down."""

    def identify(self, project: PlatformProject, args: Mapping[str, str]) -> Identity | Preview:
        raise PlatformError("connection refused", transient=True)

    def submit_target(self, project: PlatformProject, assignment: PlatformAssignment) -> SubmitForm | None:
        raise PlatformError("connection refused", transient=True)


def test_a_platform_that_cannot_be_reached_gets_a_try_again_page(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    entered = enter(app, project_id)
    runtime.service.platform_factory = lambda name, settings, config: Unreachable(settings, config)
    runtime.service._platforms.clear()
    before = table_counts(runtime)
    _refused(app, f"/task/{project_id}?worker=late", 503, "please reload this page in a minute")
    _refused(app, entered.live_url, 503, "please reload this page in a minute")
    assert table_counts(runtime) == before
