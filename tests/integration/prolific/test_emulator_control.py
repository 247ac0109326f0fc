"""The emulator's control routes: the README's table matches the app, payloads as documented, bad bodies are 400s."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from pavilion.emulators.prolific.app import build_app
from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.emulator import ProlificEmulator
from pavilion.emulators.prolific.server import RunningEmulator

from .conftest import new_study

pytestmark = pytest.mark.timeout(30)
README = Path(__file__).resolve().parents[3] / "README.md"
ROW = re.compile(r"^\| `(GET|POST) (/_emulator/[^`]*)` \|", re.MULTILINE)


def documented() -> set[tuple[str, str]]:
    return {(method, re.sub(r"<[^>]+>", "<>", path)) for method, path in ROW.findall(README.read_text())}


def test_the_readme_documents_every_control_route_and_no_other() -> None:
    served: set[tuple[str, str]] = set()
    for rule in build_app(ProlificEmulator(token="t")).url_map.iter_rules():
        if rule.rule.startswith("/_emulator/") and rule.methods:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((method, re.sub(r"<[^>]+>", "<>", rule.rule)))
    moves = {("POST", "/_emulator/submissions/<>/<>")}
    assert served - moves <= documented()
    rows = {row for row in documented() if not row[1].startswith("/_emulator/submissions/")}
    assert rows == served - moves  # every documented non-move route is served
    assert {p for _, p in documented() if p.startswith("/_emulator/submissions/")} == {
        f"/_emulator/submissions/<>/{move}" for move in ("start", "return", "time-out", "complete")
    }


def test_reserve_answers_with_the_study_link_filled_as_prolific_fills_it(
    api: httpx.Client, driver: EmulatorDriver
) -> None:
    study = new_study(api)
    sub = driver.reserve(study["id"], "ab" * 12)
    assert sub["status"] == "RESERVED" and sub["participant"] == "ab" * 12
    assert sub["study_url"] == f"https://example.org/task/1?PROLIFIC_PID={'ab' * 12}&SESSION_ID={sub['id']}"
    assert "study_url" not in api.get(f"submissions/{sub['id']}/").json()  # the API itself never shows it
    anonymous = driver.reserve(study["id"])
    assert re.fullmatch(r"[0-9a-f]{24}", anonymous["participant"])
    assert httpx.URL(anonymous["study_url"]).params["PROLIFIC_PID"] == anonymous["participant"]


def test_each_move_answers_the_submission_and_refuses_a_wrong_status(
    running: RunningEmulator, api: httpx.Client, driver: EmulatorDriver
) -> None:
    study = new_study(api, places=3)
    control = f"{running.url}/_emulator"
    sub = driver.reserve(study["id"], "p1")
    too_early = httpx.post(f"{control}/submissions/{sub['id']}/complete", json={"code": "PART"})
    assert too_early.status_code == 409 and "RESERVED" in too_early.json()["error"]["detail"]
    assert driver.start(sub["id"])["status"] == "ACTIVE"
    assert httpx.post(f"{control}/submissions/{sub['id']}/start").status_code == 409  # started once only
    no_code = httpx.post(f"{control}/submissions/{sub['id']}/complete", json={})
    assert no_code.status_code == 400 and "code" in no_code.json()["error"]["detail"]
    assert driver.complete(sub["id"], "PART")["status"] == "AWAITING REVIEW"
    other = driver.reserve(study["id"], "p2")
    assert driver.time_out(other["id"])["status"] == "TIMED-OUT"
    third = driver.reserve(study["id"], "p3")
    assert driver.return_submission(third["id"])["status"] == "RETURNED"
    unknown = httpx.post(f"{control}/submissions/{sub['id']}/vanish")
    assert unknown.status_code == 404 and "vanish" in unknown.json()["error"]["detail"]
    assert httpx.post(f"{control}/submissions/{'0' * 24}/start").status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/studies/{study}/reserve", {"participant_id": 7}, "participant_id"),
        ("/clock/advance", {"seconds": "soon"}, "seconds"),
        ("/clock/advance", {"seconds": -1}, "seconds"),
        ("/hooks/switches", {"duplicate": "yes"}, "duplicate"),
        ("/hooks/switches", {"drop_rate": 2}, "drop_rate"),
        ("/hooks/switches", {"max_attempts": 0}, "max_attempts"),
        ("/hooks/switches", {"loud": True}, "loud"),
        ("/faults", {"status": 429}, "path"),
        ("/faults", {"path": "/api/v1/", "status": "429"}, "status"),
        ("/faults", {"path": "/api/v1/", "status": 200}, "status"),
        ("/faults", {"path": "/api/v1/", "status": 429, "times": 0}, "times"),
        ("/faults", {"path": "/api/v1/", "status": 429, "shape": "html"}, "shape"),
        ("/faults", {"path": "/api/v1/", "status": 429, "colour": "red"}, "colour"),
        ("/settings", {"processing_s": None}, "processing_s"),
        ("/settings", {"speed": 2}, "speed"),
    ],
)
def test_a_bad_control_body_is_a_400_naming_the_field(
    running: RunningEmulator, api: httpx.Client, path: str, body: dict[str, object], field: str
) -> None:
    study = new_study(api)
    response = httpx.post(f"{running.url}/_emulator{path.format(study=study['id'])}", json=body)
    assert response.status_code == 400, response.text
    assert field in str(response.json()["error"]["detail"])


def test_a_body_that_is_not_an_object_is_a_400(running: RunningEmulator) -> None:
    response = httpx.post(f"{running.url}/_emulator/settings", content=b"[1]",
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON object" in response.json()["error"]["detail"]


def test_documented_payloads_answer_as_documented(running: RunningEmulator, driver: EmulatorDriver) -> None:
    assert driver.advance(60) == pytest.approx(1_800_000_060.0)
    switches = driver.switches(duplicate=True, drop_rate=0.5, max_attempts=2)
    assert switches["duplicate"] is True and switches["drop_rate"] == 0.5 and switches["max_attempts"] == 2
    assert set(switches) == {"duplicate", "reorder", "drop_rate", "hold", "delay_s", "max_attempts", "retry_s"}
    assert driver.flush() == 0
    fault = httpx.post(f"{running.url}/_emulator/faults", json={"path": "/api/v1/studies/", "status": 429})
    assert fault.status_code == 201
    assert fault.json() == {"method": "POST", "path": "/api/v1/studies/", "status": 429, "times": 1,
                            "after": False, "shape": "error"}
    assert driver.settings(bonus_lag_s=5) == {"processing_s": 0.0, "approve_lag_s": 0.0, "bonus_lag_s": 5.0}
    assert driver.journal() == []
    assert driver.payments() == {"results": [], "by_participant": {}, "pay_calls": {}}
