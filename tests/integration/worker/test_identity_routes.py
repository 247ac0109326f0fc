"""Who may reach a present stint from the task link: only the browser that holds its token (cookie or storage).

Link parameters are not secret (a lab id is said aloud, an MTurk worker id is in every link they open), so a
reload reuses a stint only with the worker's own token; a roster id joins only with its own secret code.
"""

from __future__ import annotations

from flask import Flask

from pavilion.runtime.context import Runtime
from pavilion.runtime.platforms.local import LocalPlatform

from .conftest import TOKEN_META, enter, make_project, table_counts

ROSTER = {"name": "local", "roster": ["ann", "bob"]}


def test_a_reload_with_only_the_link_parameters_gets_no_token(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    owner = app.test_client()
    entered = enter(app, project_id, owner, worker="lab-7")
    before = table_counts(runtime)
    stranger = app.test_client().get(f"/task/{project_id}", query_string={"worker": "lab-7"})
    html = stranger.get_data(as_text=True)
    assert stranger.status_code == 409 and "open elsewhere" in html
    assert "pavilion-token" not in html and entered.token not in html and stranger.location is None
    assert table_counts(runtime) == before
    again = enter(app, project_id, owner, worker="lab-7")  # the owner's own reload still works
    assert again.key == entered.key


def test_the_stint_cookie_is_scoped_httponly_and_lax(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    plain = app.test_client().get(f"/task/{project_id}", query_string={"worker": "w1"})
    cookie = plain.headers["Set-Cookie"]
    assert cookie.startswith(f"pavilion_stint_{project_id}=")
    assert f"Path=/task/{project_id}" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    secure = app.test_client().get(f"/task/{project_id}", query_string={"worker": "w2"},
                                   base_url="https://pavilion.test")
    assert "Secure" in secure.headers["Set-Cookie"]


def test_a_cookie_of_another_stint_does_not_open_this_one(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    enter(app, project_id, worker="victim")
    mallory = app.test_client()
    enter(app, project_id, mallory, worker="mallory")  # a valid cookie, but for mallory's own stint
    page = mallory.get(f"/task/{project_id}", query_string={"worker": "victim"})
    assert page.status_code == 409 and not TOKEN_META.search(page.get_data(as_text=True))


def test_the_resume_page_reads_storage_and_the_live_page_fills_it(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime)
    entered = enter(app, project_id, worker="lab-9")
    assert f'<meta name="pavilion-stint" content="{project_id}">' in entered.html and "stint.js" in entered.html
    page = app.test_client().get(f"/task/{project_id}", query_string={"worker": "lab-9"}).get_data(as_text=True)
    assert f'data-live-url="/task/{project_id}/live"' in page and "stint.js" in page
    script = app.test_client().get("/worker/static/stint.js").get_data(as_text=True)
    assert "localStorage" in script and "location.replace" in script


def test_roster_ids_join_only_with_their_own_code(app: Flask, runtime: Runtime) -> None:
    project_id = make_project(runtime, platform=ROSTER)
    platform = LocalPlatform(ROSTER, runtime.config)
    links = platform.roster_links(project_id, f"/join/{project_id}")
    assert set(links) == {"ann", "bob"}
    ann_code = platform.roster_code(project_id, "ann")
    assert ann_code != platform.roster_code(project_id, "bob") != platform.roster_code(project_id + 1, "bob")
    before = table_counts(runtime)
    for query in ({"worker": "ann"}, {"worker": "ann", "code": "0" * 16},
                  {"worker": "ann", "code": platform.roster_code(project_id, "bob")}):
        refused = app.test_client().get(f"/task/{project_id}", query_string=query)
        assert refused.status_code == 403 and "code" in refused.get_data(as_text=True)
    assert table_counts(runtime) == before
    joined = app.test_client().get(links["ann"])
    assert joined.status_code == 303 and f"code={ann_code}" in joined.location
    entered = enter(app, project_id, worker="ann", code=ann_code)
    assert runtime.service.snapshot(project_id)["counts"]["joined"] == 1 and entered.key
