"""Issue 15 item 7 in the Flask test client: the server's platform is the form's default, the launch message says
what happened, every form error at once, active over max_active, connected/away, and `/` leads to the admin."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pavilion.runtime.accounts import create_admin
from pavilion.runtime.admin.launch_report import launch_report
from pavilion.runtime.app import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.models import Outbox, Project
from pavilion.runtime.platforms.base import Identity, PlatformError, PlatformProject
from pavilion.runtime.platforms.local import LocalPlatform

from .conftest import login, make_project, post_form
from .test_projects import FORM


class PostingPlatform(LocalPlatform):
    """The local adapter, except that hiring posts "HITs" (or fails, when told to): a platform that posts."""

    def __init__(self, failure: PlatformError | None = None, posted: Mapping[str, Any] | None = None) -> None:
        super().__init__({}, {})
        self.failure = failure
        self.posted = posted if posted is not None else {"hits": ["3HITEXAMPLE1"]}

    def hire(self, project: PlatformProject, count: int, key: str) -> dict[str, Any] | None:
        if self.failure is not None:
            raise self.failure
        return {**project.state, **self.posted, "hired": count}


def app_on(tmp_path: Path, platform: str) -> Flask:
    app = create_app({
        "INSTANCE_PATH": str(tmp_path), "ENV": "testing", "SECRET_KEY": "test-secret", "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}", "ASYNC_MODE": "threading",
        "PLATFORM": platform,
    })
    runtime = get_runtime(app)
    create_admin(runtime.db, "ada", "correct horse battery", runtime.clock)
    return app


@pytest.fixture
def mturk_app(tmp_path: Path) -> Iterator[Flask]:
    """A server started as `pavilion serve --platform mturk` would be (PLATFORM is what --platform sets)."""
    app = app_on(tmp_path, "mturk")
    yield app
    get_runtime(app).shutdown()


def logged_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def selected_platform(page: str) -> str:
    select_html = page[page.index('<select id="platform"'):]
    found = re.search(r'<option selected value="(\w+)"|<option value="(\w+)" selected', select_html)
    assert found, select_html[:400]
    return found.group(1) or found.group(2)


def only_project(app: Flask) -> Project:
    with get_runtime(app).db.session_scope() as session:
        [project] = list(session.scalars(select(Project)))
        return project


def flashes(client: FlaskClient, project_id: int) -> list[str]:
    page = client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="flash flash-\w+" role="status">([^<]*)</p>', page)]


@pytest.mark.parametrize("platform", ["mturk", "prolific", "local"])
def test_the_new_project_form_defaults_to_the_servers_platform(tmp_path: Path, platform: str) -> None:
    app = app_on(tmp_path, platform)
    try:
        client = logged_in(app)
        assert selected_platform(client.get("/admin/projects/new").get_data(as_text=True)) == platform
        data = {key: value for key, value in FORM.items() if key != "platform"}  # what the default selection posts
        data["platform"] = platform
        assert post_form(client, "/admin/projects/new", "/admin/projects/new", data).status_code == 302
        assert only_project(app).platform_name == platform
    finally:
        get_runtime(app).shutdown()


def test_a_form_posted_without_a_platform_gets_the_servers(mturk_app: Flask) -> None:
    client = logged_in(mturk_app)
    data = {key: value for key, value in FORM.items() if key != "platform"}
    assert post_form(client, "/admin/projects/new", "/admin/projects/new", data).status_code == 302
    assert only_project(mturk_app).platform_name == "mturk"


def test_a_local_launch_says_to_share_the_join_link(app: Flask, admin_client: FlaskClient) -> None:
    project_id = make_project(app)
    post_form(admin_client, f"/admin/projects/{project_id}", f"/admin/projects/{project_id}/launch")
    [message] = flashes(admin_client, project_id)
    assert message.startswith("Launched: share the join link") and "posted on" not in message


def launch_on(app: Flask, adapter: PostingPlatform, platform: str = "mturk") -> tuple[FlaskClient, int]:
    service = get_runtime(app).service
    service.platform_factory = lambda name, settings, config: adapter
    project_id = make_project(app, platform={"name": platform})
    client = logged_in(app)
    response = post_form(client, f"/admin/projects/{project_id}", f"/admin/projects/{project_id}/launch")
    assert response.status_code == 302 and service.snapshot(project_id)["status"] == "live"
    return client, project_id


def test_a_posted_launch_names_the_hit(mturk_app: Flask) -> None:
    client, project_id = launch_on(mturk_app, PostingPlatform())
    assert flashes(client, project_id) == ["Launched: posted on MTurk as HIT 3HITEXAMPLE1."]


def test_a_published_study_is_named(mturk_app: Flask) -> None:
    client, project_id = launch_on(mturk_app, PostingPlatform(posted={"study_id": "65f0c0ffee"}), "prolific")
    assert flashes(client, project_id) == ["Launched: posted on Prolific as study 65f0c0ffee."]


def test_a_post_still_running_on_another_process_is_said_to_be_in_progress(mturk_app: Flask) -> None:
    _, project_id = launch_on(mturk_app, PostingPlatform())
    with get_runtime(mturk_app).db.session_scope(lock=True) as session:
        [row] = session.scalars(select(Outbox).where(Outbox.project_id == project_id, Outbox.kind == "hire"))
        row.status = "running"
        session.flush()
        message, category = launch_report(session, session.get_one(Project, project_id))
    assert (message, category) == ("Launched: posting on MTurk is still in progress (see Platform calls below).",
                                   "success")


def test_a_failed_post_says_the_platforms_error(mturk_app: Flask) -> None:
    client, project_id = launch_on(mturk_app, PostingPlatform(PlatformError("MTurk refused: no funds", False)))
    [message] = flashes(client, project_id)
    assert message == "Launched, but posting on MTurk failed: MTurk refused: no funds"
    assert "the task is posted" not in message


def test_a_post_being_retried_says_so_with_its_error(mturk_app: Flask) -> None:
    client, project_id = launch_on(mturk_app, PostingPlatform(PlatformError("throttled, try later")))
    [message] = flashes(client, project_id)
    assert message == "Launched, but posting on MTurk failed and is being retried: throttled, try later"


def test_every_form_error_is_listed_at_once_each_naming_its_field(app: Flask, admin_client: FlaskClient) -> None:
    bad = {**FORM, "name": "", "max_active": "1", "max_waiting": "0", "reward": "-1", "task_url": "not a url",
           "platform_settings": '{"colour": "blue"}', "max_waiting_s": "x"}
    response = post_form(admin_client, "/admin/projects/new", "/admin/projects/new", bad)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = page[page.index('id="form-errors"'):page.index("</div>", page.index('id="form-errors"'))]
    fields = re.findall(r'<li data-field="(\w+)">', summary)
    assert fields == ["name", "max_active", "max_waiting", "platform_settings", "reward", "task_url", "max_waiting_s"]
    assert "7 problems to fix" in summary
    assert "max_active (1) must be &gt;= min_active (2)" in summary
    assert "max_waiting (0) must be &gt;= min_waiting (1)" in summary
    assert "platform.colour is not a local platform setting" in summary
    assert ">Reward per submission</a>:" in summary and ">Name</a>:" in summary
    assert list_projects(app) == []


def list_projects(app: Flask) -> list[int]:
    with get_runtime(app).db.session_scope() as session:
        return list(session.scalars(select(Project.id)))


def test_a_forced_migration_shows_active_over_max_active(app: Flask, admin_client: FlaskClient) -> None:
    service = get_runtime(app).service
    project_id = make_project(app, policy={"name": "pavilion", "min_active": 1, "max_active": 1,
                                           "min_waiting": 1, "max_waiting": 3})
    service.launch(project_id)
    keys = [service.join(project_id, Identity(f"lab-{i}", f"a-{i}")).assignment_key for i in range(3)]
    page = admin_client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    assert re.search(r'<p class="alert" id="over-max"\s+hidden', page)
    service.migrate(project_id, keys[1], force=True)
    page = admin_client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    note = page[page.index('id="over-max"'):page.index("</p>", page.index('id="over-max"'))]
    assert "hidden" not in note.split(">")[0]
    text = " ".join(re.sub(r"<[^>]+>", " ", note.split(">", 1)[1]).split())
    assert text == "active 2 / 1 (over max_active after a forced migration)"
    assert 'class="count over" id="active-box"' in page


def presence_badges(page: str) -> dict[str, str]:
    return dict(re.findall(r'<li data-worker="(\w+)">.*?<span class="presence presence-(\w+)"', page, re.S))


def test_each_worker_is_connected_or_away(app: Flask, admin_client: FlaskClient) -> None:
    runtime = get_runtime(app)
    project_id = make_project(app)
    runtime.service.launch(project_id)
    keys = [runtime.service.join(project_id, Identity(f"lab-{i}", f"a-{i}")).assignment_key for i in range(2)]
    table = app.extensions["pavilion.worker"].table
    from pavilion.runtime.worker.presence_table import Sighting

    now = runtime.clock()
    table.write([Sighting(keys[0], project_id, now, 1), Sighting(keys[1], project_id, now, 0)])
    page = admin_client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    assert presence_badges(page) == {keys[0]: "connected", keys[1]: "away"}

    grace = float(app.config["ABANDON_GRACE_S"])
    table.write([Sighting(keys[0], project_id, now - timedelta(seconds=grace + 1), 1)])  # its process died
    page = admin_client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    assert presence_badges(page) == {keys[0]: "away", keys[1]: "away"}


@pytest.mark.parametrize("logged", [False, True])
def test_the_root_leads_to_the_admin(app: Flask, client: FlaskClient, logged: bool) -> None:
    if logged:
        assert login(client).status_code == 302
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    target: Mapping[bool, str] = {False: "/admin/login", True: "/admin/projects"}
    assert response.request.path == target[logged]
    assert ('id="login-button"' in response.get_data(as_text=True)) is not logged


def test_a_worker_socket_coming_and_going_is_pushed_to_the_dashboard(app: Flask, admin_client: FlaskClient) -> None:
    runtime = get_runtime(app)
    project_id = make_project(app)
    runtime.service.launch(project_id)
    dashboard = runtime.socketio.test_client(app, namespace="/admin", flask_test_client=admin_client)
    dashboard.emit("watch", {"project_id": project_id}, namespace="/admin", callback=True)

    joined = app.test_client().get(f"/join/{project_id}", follow_redirects=True).get_data(as_text=True)
    found = re.search(r'<meta name="pavilion-token" content="([^"]+)">', joined)
    assert found
    key = app.extensions["pavilion.worker"].tokens.verify(found.group(1)).assignment_key
    dashboard.get_received("/admin")

    def hints_and_presence() -> tuple[list[Any], dict[str, str]]:
        hints = [m["args"][0] for m in dashboard.get_received("/admin") if m["name"] == "presence"]
        reply = dashboard.emit("events", {"project_id": project_id}, namespace="/admin", callback=True)
        return hints, reply["presence"]

    assert hints_and_presence() == ([], {key: "away"})  # the page was served, no socket yet
    page = runtime.socketio.test_client(app, namespace="/worker", auth={"token": found.group(1)})
    assert page.is_connected("/worker")
    assert hints_and_presence() == ([{"id": project_id}], {key: "connected"})
    page.disconnect("/worker")
    assert hints_and_presence() == ([{"id": project_id}], {key: "away"})
