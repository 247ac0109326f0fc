"""The project page lists a lab roster's personal links, each with the code that lets only that id join."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from pavilion.runtime.context import get_runtime

from .conftest import make_project


def test_roster_links_carry_each_ids_code_and_the_join_link_works(app: Flask, admin_client: FlaskClient) -> None:
    project_id = make_project(app, platform={"name": "local", "roster": ["ann", "bob"]})
    html = admin_client.get(f"/admin/projects/{project_id}").get_data(as_text=True)
    assert 'id="roster-links"' in html
    links = [part for line in html.split('<a href="')[1:] for part in [line.split('"')[0]] if "?worker=" in part]
    assert {link.split("worker=")[1].split("&")[0] for link in links} == {"ann", "bob"}
    assert all("&amp;code=" in link for link in links)
    get_runtime(app).service.launch(project_id)
    path = "/" + links[0].replace("&amp;", "&").split("/", 3)[3]  # absolute link -> path on the test server
    joined = app.test_client().get(path)
    assert joined.status_code == 303
    task = app.test_client().get(joined.location)
    assert task.status_code == 303 and "/live?token=" in task.location  # the personal link joins
    plain = make_project(app)
    assert 'id="roster-links"' not in admin_client.get(f"/admin/projects/{plain}").get_data(as_text=True)
