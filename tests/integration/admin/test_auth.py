"""Login is required everywhere on the admin side; errors never tell whether a user exists; CSRF on every form."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .conftest import PASSWORD, USERNAME, csrf_token, login, make_project

PAGES = ["/admin/", "/admin/projects", "/admin/projects/new", "/admin/projects/{id}", "/admin/projects/{id}/edit",
         "/admin/projects/{id}/ledger", "/admin/projects/{id}/events.csv", "/admin/projects/{id}/assignments.csv"]
BUTTONS = ["launch", "stop", "expire", "migrate", "edit"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_sends_strangers_to_the_login(app: Flask, client: FlaskClient, page: str) -> None:
    url = page.format(id=make_project(app))
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("button", BUTTONS)
def test_every_button_refuses_strangers(app: Flask, client: FlaskClient, button: str) -> None:
    project_id = make_project(app)
    page = client.get("/admin/login").get_data(as_text=True)
    response = client.post(f"/admin/projects/{project_id}/{button}", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert client.application.extensions["pavilion"].service.snapshot(project_id)["status"] == "draft"


def test_a_good_password_logs_in_and_follows_a_local_next(client: FlaskClient) -> None:
    response = login(client, next_url="/admin/projects/new")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/projects/new"
    assert client.get("/admin/projects").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_an_offsite_next_is_ignored(client: FlaskClient, target: str) -> None:
    response = login(client, next_url=target)
    assert response.headers["Location"] == "/admin/projects"


def test_a_wrong_password_and_an_unknown_user_look_the_same(client: FlaskClient) -> None:
    wrong = login(client, USERNAME, "not the password")
    unknown = login(client, "nobody-here", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Invalid username or password." in wrong.get_data(as_text=True)
    assert "Invalid username or password." in unknown.get_data(as_text=True)
    assert client.get("/admin/projects").status_code == 302  # still logged out


def test_there_is_no_default_account(app: Flask, tmp_path: object) -> None:
    fresh = app.test_client()
    for username, password in [("admin", "admin"), ("admin", "password"), ("root", "root")]:
        assert login(fresh, username, password).status_code == 401


def test_a_login_post_without_its_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/admin/login", data={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/projects").status_code == 302


def test_logout_is_a_post_with_a_token(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/logout").status_code == 405
    assert admin_client.post("/admin/logout").status_code == 400  # no CSRF token: still logged in
    assert admin_client.get("/admin/projects").status_code == 200
    token = csrf_token(admin_client.get("/admin/projects").get_data(as_text=True))
    assert admin_client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert admin_client.get("/admin/projects").status_code == 302
