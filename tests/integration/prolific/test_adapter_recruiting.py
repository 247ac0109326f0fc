"""The Prolific adapter against the emulator: launch, places, pauses, identity, reconciliation, stop."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.server import RunningEmulator
from pavilion.runtime.platforms.base import IdentityError, Preview
from pavilion.runtime.platforms.prolific.adapter import ProlificPlatform

from .adapter_fixtures import Project, assignment, make_adapter, make_project

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def adapter(running: RunningEmulator, clock: ManualClock, tmp_path: Path) -> ProlificPlatform:
    return make_adapter(running, clock, f"sqlite:///{tmp_path / 'journal.sqlite'}")


@pytest.fixture
def project(adapter: ProlificPlatform) -> Project:
    proj = make_project()
    proj.apply(adapter.hire(proj.view, 3, "launch"))
    return proj


def study_of(running: RunningEmulator, project: Project):  # type: ignore[no-untyped-def]
    return running.emulator.state.studies[project.view.state["study_id"]]


def calls(driver: EmulatorDriver, method: str, fragment: str) -> list[dict]:  # type: ignore[type-arg]
    return [j for j in driver.journal() if j["method"] == method and fragment in j["path"]]


def test_launch_creates_and_publishes_one_study(running: RunningEmulator, project: Project) -> None:
    study = study_of(running, project)
    assert study.status == "ACTIVE" and study.total_available_places == 3
    assert study.reward == 150
    for placeholder in ("{{%PROLIFIC_PID%}}", "{{%STUDY_ID%}}", "{{%SESSION_ID%}}"):
        assert placeholder in study.external_study_url
    assert study.external_study_url.startswith("http://127.0.0.1:9/task/1?")
    assert study.maximum_allowed_time >= 3 * study.estimated_completion_time + 60  # waiting time counts
    researcher = [c for c in study.completion_codes if c["actor"] == "researcher"]
    assert [c["code"] for c in researcher] == ["PAVILION-DONE"]


def test_a_retried_launch_finds_its_study(running: RunningEmulator, adapter: ProlificPlatform) -> None:
    first, second = make_project(), make_project()  # the second lost the state the first call returned
    first.apply(adapter.hire(first.view, 3, "launch"))
    second.apply(adapter.hire(second.view, 3, "launch"))
    assert first.view.state["study_id"] == second.view.state["study_id"]
    assert len(running.emulator.state.studies) == 1
    assert adapter.hire(first.view, 3, "launch") is None  # the same key again: nothing to do


def test_hiring_raises_an_absolute_target_idempotently(
    running: RunningEmulator, adapter: ProlificPlatform, project: Project, driver: EmulatorDriver
) -> None:
    before = project.view
    project.apply(adapter.hire(project.view, 1, "hire-1"))
    assert study_of(running, project).total_available_places == 4
    again = adapter.hire(before, 1, "hire-1")  # a retry after a crash that lost the new state
    assert again is not None and again["target"] == 4
    assert study_of(running, project).total_available_places == 4
    assert len(calls(driver, "PATCH", "/studies/")) == 1


def test_returns_do_not_hire_but_a_study_prolific_paused_is_restarted(
    running: RunningEmulator, adapter: ProlificPlatform, project: Project, driver: EmulatorDriver
) -> None:
    subs = [driver.start(driver.reserve(project.view.state["study_id"])["id"]) for _ in range(3)]
    driver.return_submission(subs[0]["id"])
    assert study_of(running, project).status == "PAUSED"  # a full study that lost a place
    gone = adapter.reconcile(project.view, [assignment(s, f"a{i}") for i, s in enumerate(subs)])
    assert [(d.assignment_id, d.how) for d in gone] == [(subs[0]["id"], "returned")]
    assert study_of(running, project).status == "ACTIVE"
    assert study_of(running, project).total_available_places == 3  # Prolific refills; we hired nobody
    driver.time_out(subs[1]["id"])
    gone = adapter.reconcile(project.view, [assignment(s, f"a{i}") for i, s in enumerate(subs[1:])])
    assert [(d.assignment_id, d.how) for d in gone] == [(subs[1]["id"], "abandoned")]


def test_identity_is_checked_against_the_submission(
    adapter: ProlificPlatform, project: Project, driver: EmulatorDriver
) -> None:
    study_id = project.view.state["study_id"]
    p1, p2, p3 = ("1" * 24, "2" * 24, "3" * 24)  # Prolific ids are 24 hexadecimal digits
    sub = driver.start(driver.reserve(study_id, p1)["id"])
    args = {"PROLIFIC_PID": p1, "STUDY_ID": study_id, "SESSION_ID": sub["id"]}
    identity = adapter.identify(project.view, args)
    assert not isinstance(identity, Preview)
    assert (identity.worker_id, identity.assignment_id) == (p1, sub["id"])
    for bad in ({"PROLIFIC_PID": p2}, {"STUDY_ID": "f" * 24}, {"SESSION_ID": "0" * 24}, {"SESSION_ID": ""}):
        with pytest.raises(IdentityError):
            adapter.identify(project.view, {**args, **bad})
    other = driver.reserve(study_id, p3)
    driver.return_submission(other["id"])
    with pytest.raises(IdentityError, match="returned"):
        adapter.identify(project.view, {"PROLIFIC_PID": p3, "STUDY_ID": study_id, "SESSION_ID": other["id"]})
    preview = {"PROLIFIC_PID": "{{%PROLIFIC_PID%}}", "STUDY_ID": study_id, "SESSION_ID": "{{%SESSION_ID%}}"}
    assert isinstance(adapter.identify(project.view, preview), Preview)


def test_a_reserved_place_not_started_on_prolific_is_refused_until_started(
    adapter: ProlificPlatform, project: Project, driver: EmulatorDriver
) -> None:
    study_id = project.view.state["study_id"]
    reserved = driver.reserve(study_id, "4" * 24)
    assert reserved["status"] == "RESERVED"
    args = dict(httpx.URL(reserved["study_url"]).params)  # the link the emulator hands out, as Prolific fills it
    assert args == {"PROLIFIC_PID": "4" * 24, "STUDY_ID": study_id, "SESSION_ID": reserved["id"]}
    with pytest.raises(IdentityError, match="reserved but not started") as caught:
        adapter.identify(project.view, args)
    assert caught.value.status == 409
    assert calls(driver, "GET", f"submissions/{reserved['id']}")  # Prolific was asked, not the link believed
    started = driver.start(reserved["id"])
    assert started["status"] == "ACTIVE" and started["study_url"] == reserved["study_url"]
    identity = adapter.identify(project.view, args)  # the refusal was not cached: a reload after starting joins
    assert not isinstance(identity, Preview) and identity.assignment_id == reserved["id"]


def test_expire_pauses_and_later_hires_do_not_resume(
    running: RunningEmulator, adapter: ProlificPlatform, project: Project
) -> None:
    project.apply(adapter.expire(project.view, "expire"))
    assert study_of(running, project).status == "PAUSED"
    project.apply(adapter.hire(project.view, 1, "late-hire"))
    assert study_of(running, project).status == "PAUSED"


def test_stop_pauses_completes_stops_and_approves_in_bulk(
    running: RunningEmulator, adapter: ProlificPlatform, project: Project, driver: EmulatorDriver
) -> None:
    study_id = project.view.state["study_id"]
    active = [driver.start(driver.reserve(study_id)["id"]) for _ in range(2)]
    project.apply(adapter.stop(project.view, "stop"))
    assert project.view.state["stopped"]
    states = running.emulator.state
    assert [states.submissions[s["id"]].status for s in active] == ["APPROVED", "APPROVED"]
    assert study_of(running, project).status == "COMPLETED"
    order = [(j["method"], j["body"]) for j in driver.journal() if "transition" in j["path"] or "bulk" in j["path"]]
    actions = [body.get("action", "BULK-APPROVE") for _, body in order if body]
    assert actions[-5:] == ["PAUSE", "COMPLETE", "COMPLETE", "STOP", "BULK-APPROVE"]
    assert adapter.stop(project.view, "stop") is None


def test_prolific_errors_surface_their_detail(adapter: ProlificPlatform, project: Project) -> None:
    from pavilion.runtime.platforms.prolific.client import ProlificError

    with pytest.raises(ProlificError, match="cannot be decreased") as exc:
        adapter.client.call("PATCH", f"studies/{project.view.state['study_id']}/", {"total_available_places": 1})
    assert exc.value.status == 400 and not exc.value.transient


def test_429_and_5xx_are_retried_with_backoff(
    adapter: ProlificPlatform, project: Project, driver: EmulatorDriver
) -> None:
    path = f"/api/v1/studies/{project.view.state['study_id']}/"
    driver.fault("GET", path, 429, times=2)
    driver.fault("GET", path, 503, times=1)
    project.apply(adapter.hire(project.view, 1, "hire-after-faults"))
    assert [j["status"] for j in driver.journal() if j["path"] == path and j["method"] == "GET"][-4:] == [
        429,
        429,
        503,
        200,
    ]


def test_a_refused_webhook_subscription_does_not_block_the_launch(
    running: RunningEmulator, clock: ManualClock, tmp_path: Path
) -> None:
    running.emulator.allow_http_hooks = False  # Prolific wants public https targets
    adapter = make_adapter(running, clock, f"sqlite:///{tmp_path / 'j.sqlite'}", webhooks=True)
    proj = make_project()
    proj.apply(adapter.hire(proj.view, 2, "launch"))
    assert proj.view.state["subscriptions"] == []
    assert study_of(running, proj).status == "ACTIVE"


def crafted(pid: str, study: str, session: str) -> list[dict[str, str]]:
    """Twelve crafted launch parameters: traversal into other API paths, control characters, wrong lengths."""
    bad = [
        {"SESSION_ID": f"../studies/{study}"}, {"SESSION_ID": f"..%2Fstudies%2F{study}"},
        {"SESSION_ID": session + "/../../studies"}, {"SESSION_ID": session[:23] + "\n"},
        {"SESSION_ID": session[:23] + "\x00"}, {"SESSION_ID": session[:12] + "\r\n" + session[:10]},
        {"SESSION_ID": session[:23]}, {"SESSION_ID": session + "0"}, {"SESSION_ID": "z" * 24},
        {"PROLIFIC_PID": "p1"}, {"PROLIFIC_PID": pid + "\t"}, {"STUDY_ID": study[:-1] + "?"},
    ]
    return [{"PROLIFIC_PID": pid, "STUDY_ID": study, "SESSION_ID": session, **b} for b in bad]


def test_crafted_ids_are_a_400_and_never_reach_the_api(
    adapter: ProlificPlatform, project: Project, driver: EmulatorDriver
) -> None:
    study_id = project.view.state["study_id"]
    sub = driver.reserve(study_id, "a" * 24)
    before = len(driver.journal())
    for args in crafted("a" * 24, study_id, sub["id"]):
        with pytest.raises(IdentityError) as caught:
            adapter.identify(project.view, args)
        assert caught.value.status == 400, args
    assert len(driver.journal()) == before  # not one request went out


def test_only_a_verified_session_gets_a_place(
    adapter: ProlificPlatform, project: Project, driver: EmulatorDriver
) -> None:
    study_id = project.view.state["study_id"]
    mine = driver.start(driver.reserve(study_id, "a" * 24)["id"])
    theirs = driver.start(driver.reserve(study_id, "b" * 24)["id"])
    gone = driver.reserve(study_id, "c" * 24)
    driver.return_submission(gone["id"])
    refused = {
        "no such submission": {"PROLIFIC_PID": "a" * 24, "SESSION_ID": "d" * 24},
        "another participant's": {"PROLIFIC_PID": "a" * 24, "SESSION_ID": theirs["id"]},
        "not in the study any more": {"PROLIFIC_PID": "c" * 24, "SESSION_ID": gone["id"]},
    }
    for why, args in refused.items():
        with pytest.raises(IdentityError) as caught:
            adapter.identify(project.view, {"STUDY_ID": study_id, **args})
        assert caught.value.status == 403, why
    args = {"PROLIFIC_PID": "a" * 24, "STUDY_ID": study_id, "SESSION_ID": mine["id"]}
    identity = adapter.identify(project.view, args)
    assert not isinstance(identity, Preview) and identity.assignment_id == mine["id"]
    assert calls(driver, "GET", f"submissions/{mine['id']}")  # verified with the API, not taken on trust
