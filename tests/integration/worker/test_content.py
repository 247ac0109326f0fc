"""A project's own content: its URL, else a template in instance/tasks/<id>.html (sandboxed), else the demo task."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from pavilion.runtime.context import Runtime

from .conftest import connect, enter, make_project, received

pytestmark = pytest.mark.timeout(60)


def write_template(app: Flask, project_id: int, text: str) -> None:
    folder = Path(app.config["INSTANCE_PATH"]) / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{project_id}.html").write_text(text)


def promoted_url(app: Flask, runtime: Runtime, project_id: int) -> str:
    first = connect(app, enter(app, project_id).token)
    enter(app, project_id)  # min_active 1 + min_waiting 1: the first worker is promoted
    urls = [p["url"] for p in received(first, "promoted")]
    assert len(urls) == 1
    return str(urls[0])


def test_a_template_is_framed_for_promoted_workers_and_rendered_escaped(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, task={"title": "<b>Steer</b>", "description": "Together."})
    write_template(app, project_id, "<h1>{{ title }}</h1><p>{{ description }}</p><p>session {{ project_id }}</p>")
    assert promoted_url(app, runtime, project_id) == f"/task/{project_id}/content"
    page = app.test_client().get(f"/task/{project_id}/content")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>&lt;b&gt;Steer&lt;/b&gt;</h1>" in html and f"session {project_id}" in html


def test_the_project_url_comes_before_a_template_and_nothing_means_the_demo(app: Flask, runtime: Runtime) -> None:
    with_url = make_project(runtime, task={"url": "https://task.test/x"})
    write_template(app, with_url, "unused")
    assert promoted_url(app, runtime, with_url) == "https://task.test/x"
    plain = make_project(runtime)
    assert promoted_url(app, runtime, plain) == ""
    page = app.test_client().get(f"/task/{plain}/content")
    assert page.status_code == 404 and "no task template" in page.get_data(as_text=True).lower()


def test_a_template_cannot_reach_past_the_sandbox(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    write_template(app, project_id, "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    page = app.test_client().get(f"/task/{project_id}/content")
    assert page.status_code == 500 and "the task template has an error" in page.get_data(as_text=True).lower()
    assert "unsafe" in page.get_data(as_text=True)
    write_template(app, project_id, "{% if %}")
    assert app.test_client().get(f"/task/{project_id}/content").status_code == 500
    assert app.test_client().get("/task/999/content").status_code == 404
