"""Fixtures: an app on a fresh SQLite file (threading mode, CSRF on), an admin account and a logged-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pavilion.runtime.accounts import create_admin
from pavilion.runtime.app import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.projects import parse_project

USERNAME = "ada"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app({
        "INSTANCE_PATH": str(tmp_path), "ENV": "testing", "SECRET_KEY": "test-secret", "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}", "ASYNC_MODE": "threading",
    })
    runtime = get_runtime(app)
    create_admin(runtime.db, USERNAME, PASSWORD, runtime.clock)
    yield app
    runtime.shutdown()


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str = USERNAME, password: str = PASSWORD, next_url: str = "") -> Any:
    page = client.get("/admin/login")
    query = f"?next={next_url}" if next_url else ""
    return client.post(f"/admin/login{query}", data={
        "username": username, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True)),
    })


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin_client(client: FlaskClient) -> FlaskClient:
    response = login(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def project_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Robot teleoperation",
        "policy": {"name": "pavilion", "min_active": 2, "max_active": 3, "min_waiting": 1, "max_waiting": 3},
        "platform": {"name": "local"},
        "pay": {"reward": "0.50", "waiting_wage_per_hour": "6", "active_wage_per_hour": "9"},
        "task": {"title": "Steer", "url": "https://task.test/live"},
    }
    data.update(overrides)
    return data


def make_project(app: Flask, **overrides: Any) -> int:
    return get_runtime(app).service.create_project(parse_project(project_data(**overrides)))


def post_form(client: FlaskClient, page_url: str, action_url: str, data: dict[str, Any] | None = None) -> Any:
    """Post a form the way a browser would: with the CSRF token of the page it sits on."""
    token = csrf_token(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={**(data or {}), "csrf_token": token})
