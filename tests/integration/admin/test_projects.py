"""Project forms and buttons: validated create/edit, launch, expire, migrate, stop, all through the service."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pavilion.runtime.context import get_runtime
from pavilion.runtime.models import Project
from pavilion.runtime.platforms.base import Identity

from .conftest import make_project, post_form

FORM: dict[str, Any] = {
    "name": "Crowd chat", "description": "Answer together.", "policy": "pavilion", "min_active": "2",
    "max_active": "3", "min_waiting": "1", "max_waiting": "4", "platform": "local", "platform_settings": "",
    "reward": "0.75", "waiting_wage_per_hour": "6.50", "active_wage_per_hour": "10", "task_url": "",
    "max_waiting_s": "300",
}


def projects(app: Flask) -> list[Project]:
    with get_runtime(app).db.session_scope() as session:
        return list(session.scalars(select(Project)))


def test_a_valid_form_creates_a_draft_project(app: Flask, admin_client: FlaskClient) -> None:
    response = post_form(admin_client, "/admin/projects/new", "/admin/projects/new", FORM)
    assert response.status_code == 302
    [project] = projects(app)
    assert response.headers["Location"] == f"/admin/projects/{project.id}"
    assert (project.name, project.status, project.policy_name) == ("Crowd chat", "draft", "pavilion")
    assert project.policy_params == {"min_active": 2, "max_active": 3, "min_waiting": 1, "max_waiting": 4}
    assert project.pay == {"reward": "0.75", "waiting_wage_per_hour": "6.50", "active_wage_per_hour": "10"}
    assert project.task["max_waiting_s"] == 300 and project.task["description"] == "Answer together."
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Crowd chat" in page and 'id="launch-button"' in page


def test_bad_queue_sizes_are_shown_on_the_form_and_nothing_is_stored(app: Flask, admin_client: FlaskClient) -> None:
    response = post_form(admin_client, "/admin/projects/new", "/admin/projects/new", {**FORM, "max_active": "1"})
    assert response.status_code == 400
    assert "max_active (1) must be &gt;= min_active (2)" in response.get_data(as_text=True)
    assert projects(app) == []


def test_bad_platform_settings_name_the_setting(app: Flask, admin_client: FlaskClient) -> None:
    data = {**FORM, "platform_settings": '{"colour": "blue"}'}
    response = post_form(admin_client, "/admin/projects/new", "/admin/projects/new", data)
    assert response.status_code == 400
    assert "platform.colour is not a local platform setting" in response.get_data(as_text=True)
    assert projects(app) == []


def test_a_form_without_its_csrf_token_is_refused(app: Flask, admin_client: FlaskClient) -> None:
    assert admin_client.post("/admin/projects/new", data=FORM).status_code == 400
    assert projects(app) == []


def test_a_draft_can_be_edited_and_a_launched_project_cannot(app: Flask, admin_client: FlaskClient) -> None:
    project_id = make_project(app)
    edit = f"/admin/projects/{project_id}/edit"
    page = admin_client.get(edit).get_data(as_text=True)
    assert 'value="Robot teleoperation"' in page
    response = post_form(admin_client, edit, edit, {**FORM, "name": "Renamed", "max_waiting": "6"})
    assert response.status_code == 302
    [project] = projects(app)
    assert project.name == "Renamed" and project.policy_params["max_waiting"] == 6
    assert project.state["config"]["max_waiting"] == 6

    post_form(admin_client, f"/admin/projects/{project_id}", f"/admin/projects/{project_id}/launch")
    assert admin_client.get(edit).status_code == 302
    response = post_form(admin_client, f"/admin/projects/{project_id}", edit, {**FORM, "name": "Again"})
    assert response.status_code == 302
    assert projects(app)[0].name == "Renamed"


def test_launch_expire_migrate_stop(app: Flask, admin_client: FlaskClient) -> None:
    service = get_runtime(app).service
    project_id = make_project(app, policy={"name": "pavilion", "min_active": 1, "max_active": 1,
                                           "min_waiting": 1, "max_waiting": 3})
    page = f"/admin/projects/{project_id}"
    post_form(admin_client, page, f"{page}/launch")
    assert service.snapshot(project_id)["status"] == "live"
    keys = [service.join(project_id, Identity(f"lab-{i}", f"a-{i}")).assignment_key for i in range(3)]
    snap = service.snapshot(project_id)
    assert snap["active"] == keys[:1] and snap["waiting"] == keys[1:]

    html = admin_client.get(page).get_data(as_text=True)
    assert all(f'value="{key}"' in html for key in keys[1:])  # a Migrate button per waiting worker
    refused = post_form(admin_client, page, f"{page}/migrate", {"worker_id": keys[1]})
    assert refused.status_code == 302
    assert "pass force=true" in admin_client.get(page).get_data(as_text=True)
    post_form(admin_client, page, f"{page}/migrate", {"worker_id": keys[1], "force": "y"})
    assert service.snapshot(project_id)["active"] == keys[:2]

    post_form(admin_client, page, f"{page}/expire")
    assert service.snapshot(project_id)["status"] == "expired"
    post_form(admin_client, page, f"{page}/stop")
    assert service.snapshot(project_id)["status"] == "stopped"
    html = admin_client.get(page).get_data(as_text=True)
    assert 'id="stop-button"' not in html and 'id="launch-button"' not in html


def test_a_button_without_its_csrf_token_changes_nothing(app: Flask, admin_client: FlaskClient) -> None:
    project_id = make_project(app)
    assert admin_client.post(f"/admin/projects/{project_id}/launch").status_code == 400
    assert get_runtime(app).service.snapshot(project_id)["status"] == "draft"


def test_a_refused_request_is_a_message_not_a_crash(app: Flask, admin_client: FlaskClient) -> None:
    project_id = make_project(app)
    page = f"/admin/projects/{project_id}"
    response = post_form(admin_client, page, f"{page}/expire")
    assert response.status_code == 302
    assert "only a live project can expire" in admin_client.get(page).get_data(as_text=True)
    assert post_form(admin_client, page, f"{page}/migrate", {"worker_id": ""}).status_code == 302


def test_unknown_projects_are_404(admin_client: FlaskClient) -> None:
    for url in ("/admin/projects/999", "/admin/projects/999/ledger", "/admin/projects/999/events.csv",
                "/admin/projects/999/edit"):
        assert admin_client.get(url).status_code == 404
    assert post_form(admin_client, "/admin/projects", "/admin/projects/999/launch").status_code == 404


def test_a_stopped_project_offers_no_migration(app: Flask, admin_client: FlaskClient) -> None:
    service = get_runtime(app).service
    project_id = make_project(app)
    service.launch(project_id)
    key = service.join(project_id, Identity("lab-1", "a-1")).assignment_key
    page = f"/admin/projects/{project_id}"
    assert f'name="worker_id" value="{key}"' in admin_client.get(page).get_data(as_text=True)
    service.stop(project_id)
    html = admin_client.get(page).get_data(as_text=True)
    assert f'data-worker="{key}"' in html and f'name="worker_id" value="{key}"' not in html
