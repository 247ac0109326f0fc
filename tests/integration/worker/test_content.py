"""A project's own content: its URL, else a template in instance/tasks/<id>.html (sandboxed), else the demo task;
either way the task is told who is in it, and the template is shown only to a worker of the project."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from pavilion.runtime.context import Runtime
from pavilion.runtime.tokens import WorkerClaim
from pavilion.runtime.worker.side import get_worker_side

from .conftest import Entered, connect, enter, make_project, received

pytestmark = pytest.mark.timeout(60)


def write_template(app: Flask, project_id: int, text: str) -> None:
    folder = Path(app.config["INSTANCE_PATH"]) / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{project_id}.html").write_text(text)


def promoted(app: Flask, project_id: int) -> tuple[Entered, str]:
    """The first worker and the URL its `promoted` message carried."""
    first = enter(app, project_id)
    socket = connect(app, first.token)
    enter(app, project_id)  # min_active 1 + min_waiting 1: the first worker is promoted
    urls = [p["url"] for p in received(socket, "promoted")]
    assert len(urls) == 1
    return first, str(urls[0])


def split(url: str) -> tuple[str, dict[str, list[str]], str]:
    parts = urlsplit(url)
    return parts._replace(query="", fragment="").geturl(), parse_qs(parts.query), parts.fragment


def test_a_template_is_framed_for_promoted_workers_and_rendered_escaped(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, task={"title": "<b>Steer</b>", "description": "Together."})
    write_template(app, project_id, "<h1>{{ title }}</h1><p>{{ description }}</p><p>session {{ project_id }}</p>"
                                    "<p>w={{ pavilion_worker }} a={{ pavilion_assignment }}</p>"
                                    "<p>t={{ pavilion_task_token }}</p>")
    first, url = promoted(app, project_id)
    path, query, _ = split(url)
    assert path == f"/task/{project_id}/content"
    side = get_worker_side(app)
    claim = side.task_tokens.verify(query["pavilion_task_token"][0])
    assert claim == side.tokens.verify(first.token)  # the same stint, under the task tokens' own salt
    assert query["pavilion_worker"] == [claim.worker_id] and query["pavilion_assignment"] == [first.key]
    page = app.test_client().get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert "<h1>&lt;b&gt;Steer&lt;/b&gt;</h1>" in html and f"session {project_id}" in html
    assert f"w={claim.worker_id} a={first.key}" in html and f"t={query['pavilion_task_token'][0]}" in html


def test_the_template_is_shown_only_with_a_token_of_the_project(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    other = make_project(runtime)
    write_template(app, project_id, "<p>t={{ pavilion_task_token }}</p>")
    client = app.test_client()
    side = get_worker_side(app)
    worker = enter(app, project_id)
    for query in ({}, {"pavilion_task_token": "forged.token.sig"}, {"token": "forged.token.sig"},
                  {"pavilion_task_token": worker.token},  # a worker token is no task token
                  {"pavilion_task_token": side.task_tokens.issue(WorkerClaim(other, "k", "w"))}):
        page = client.get(f"/task/{project_id}/content", query_string=query)
        assert page.status_code == 403, query
    # The worker's own token (the page itself) opens it too, and the template gets a task token for the stint.
    page = client.get(f"/task/{project_id}/content", query_string={"token": worker.token})
    assert page.status_code == 200
    shown = page.get_data(as_text=True).removeprefix("<p>t=").removesuffix("</p>")
    assert side.task_tokens.verify(shown) == side.tokens.verify(worker.token)


def test_the_project_url_keeps_its_query_and_fragment_and_nothing_means_the_demo(
    app: Flask, runtime: Runtime
) -> None:
    with_url = make_project(runtime, task={"url": "https://task.test/x?room=7&pavilion_worker=spoof#start"})
    write_template(app, with_url, "unused")
    first, url = promoted(app, with_url)
    path, query, fragment = split(url)
    assert path == "https://task.test/x" and fragment == "start"
    assert url.startswith("https://task.test/x?room=7&pavilion_worker=")
    assert sorted(query) == ["pavilion_assignment", "pavilion_task_token", "pavilion_worker", "room"]
    assert query["pavilion_worker"] != ["spoof"] and query["pavilion_assignment"] == [first.key]
    plain = make_project(runtime)
    assert promoted(app, plain)[1] == ""
    page = app.test_client().get(f"/task/{plain}/content", query_string={"token": enter(app, plain).token})
    assert page.status_code == 404 and "no task template" in page.get_data(as_text=True).lower()


def test_a_template_cannot_reach_past_the_sandbox(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    token = {"token": enter(app, project_id).token}
    write_template(app, project_id, "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    page = app.test_client().get(f"/task/{project_id}/content", query_string=token)
    assert page.status_code == 500 and "the task template has an error" in page.get_data(as_text=True).lower()
    assert "unsafe" in page.get_data(as_text=True)
    write_template(app, project_id, "{% if %}")
    assert app.test_client().get(f"/task/{project_id}/content", query_string=token).status_code == 500
    assert app.test_client().get("/task/999/content", query_string=token).status_code == 403
