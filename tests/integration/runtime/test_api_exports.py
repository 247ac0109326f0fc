"""The API's reads (issue 15 item 6): GET /api/projects, the queued workers' platform ids and the promotion-to-ready
latency in GET /api/projects/<id>, assignments.csv and ledger.csv, each only for the token's own admin."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.exports import ASSIGNMENT_COLUMNS, LEDGER_COLUMNS
from pavilion.runtime.models import Payment
from pavilion.runtime.platforms.base import Identity

from .api_apps import Api, database_url, token_for  # noqa: F401 - fixture
from .helpers import project_json

README = Path(__file__).resolve().parents[3] / "README.md"


class StepClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def app(tmp_path: Path, clock: StepClock, database_url: str) -> Iterator[Flask]:  # noqa: F811 - the fixture above
    """On SQLite, and on a fresh PostgreSQL schema when PAVILION_TEST_DATABASE_URL is set."""
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret", "ENV": "testing",
                      "DATABASE_URL": database_url, "CLOCK": clock})
    yield app
    get_runtime(app).shutdown()


@pytest.fixture
def alice(app: Flask) -> Api:
    return Api(app.test_client(), token_for(app, "alice"))


@pytest.fixture
def bob(app: Flask) -> Api:
    return Api(app.test_client(), token_for(app, "bob"))


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def documented_columns(export: str) -> list[str]:
    """The column names of the README's table for an export (the table right after its `<!-- columns: -->` mark)."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"<!-- columns: {export} -->")
    table = text[start:].split("\n\n", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)


@pytest.fixture
def session_run(app: Flask, clock: StepClock, alice: Api) -> dict[str, Any]:
    """Alice's session (2..3 active, 1..3 waiting): four join at t=10..40 (three seated at t=30 and t=40), the first
    two pages are ready 2 s and 6 s after their promotion; at t=100 the fourth returns from the waiting room, the
    first submits; at t=200 the job stops and the others submit."""
    service = get_runtime(app).service
    pid = alice.post("/projects", project_json()).get_json()["id"]
    assert alice.post(f"/projects/{pid}/launch").status_code == 200
    keys = []
    for i in range(3):
        clock.advance(10)
        keys.append(service.join(pid, Identity(f"W{i}", f"A{i}")).assignment_key)
    clock.advance(2)
    assert service.ready(pid, keys[0])
    clock.advance(4)
    assert service.ready(pid, keys[1])
    clock.advance(4)
    keys.append(service.join(pid, Identity("W3", "A3")).assignment_key)
    return {"pid": pid, "keys": keys}


def finish(app: Flask, clock: StepClock, alice: Api, pid: int, keys: list[str]) -> None:
    service = get_runtime(app).service
    clock.advance(60)  # t=100
    service.depart(pid, keys[3], "returned", source="socket")
    service.depart(pid, keys[0], "submitted", source="socket")
    clock.advance(100)
    assert alice.post(f"/projects/{pid}/stop").status_code == 200
    for key in keys[1:3]:
        service.depart(pid, key, "submitted", source="socket")


def test_the_project_list_holds_the_callers_projects_only(alice: Api, bob: Api, session_run: dict[str, Any]) -> None:
    bobs = bob.post("/projects", project_json(name="bob's")).get_json()["id"]
    listed = alice.get("/projects").get_json()
    assert [p["id"] for p in listed] == [session_run["pid"]]
    (mine,) = listed
    assert (mine["name"], mine["status"], mine["platform"], mine["policy"]["name"]) == (
        "test session", "live", "local", "pavilion")
    assert mine["created_at"] == "2026-03-01T09:00:00+00:00" and mine["launched_at"] == mine["created_at"]
    assert mine["stopped_at"] is None
    assert (mine["counts"]["joined"], mine["counts"]["waiting"], mine["counts"]["active"]) == (4, 1, 3)
    assert [p["id"] for p in bob.get("/projects").get_json()] == [bobs]
    assert [p["id"] for p in bob.get("/projects?status=draft").get_json()] == [bobs]
    assert bob.get("/projects?status=live").get_json() == []


@pytest.mark.parametrize(("query", "message"), [
    ("status=gone", "status must be one of draft, live, expired, stopped, got 'gone'"),
    ("owner=2", "unknown query parameter 'owner'"),
])
def test_a_bad_list_query_is_refused(alice: Api, query: str, message: str) -> None:
    response = alice.get(f"/projects?{query}")
    assert response.status_code == 400 and response.get_json() == {"error": message}


def test_the_state_names_each_queued_workers_platform_ids(alice: Api, session_run: dict[str, Any]) -> None:
    pid, keys = session_run["pid"], session_run["keys"]
    state = alice.get(f"/projects/{pid}").get_json()
    assert (state["waiting"], state["active"]) == (keys[3:], keys[:3])  # DESIGN section 8's lists, unchanged
    assert set(state["workers"]) == set(keys)
    assert {k: (w["platform_worker_id"], w["platform_assignment_id"], w["queue"]) for k, w in state["workers"].items()
            } == {keys[i]: (f"W{i}", f"A{i}", "active" if i < 3 else "waiting") for i in range(4)}
    assert state["workers"][keys[3]]["promoted_at"] is None
    assert state["workers"][keys[0]]["promoted_at"] == "2026-03-01T09:00:30+00:00"


def test_the_state_summarises_promotion_to_ready(alice: Api, session_run: dict[str, Any]) -> None:
    # Promoted at t=30 (the first two) and t=40 (the third, never ready); ready at t=32 and t=36.
    latency = alice.get(f"/projects/{session_run['pid']}").get_json()["ready_latency_s"]
    assert latency == {"count": 2, "p50": pytest.approx(4.0), "p90": pytest.approx(5.6), "max": pytest.approx(6.0)}


def test_no_ready_yet_is_an_empty_summary(alice: Api) -> None:
    pid = alice.post("/projects", project_json()).get_json()["id"]
    assert alice.get(f"/projects/{pid}").get_json()["ready_latency_s"] == {
        "count": 0, "p50": None, "p90": None, "max": None}


def test_assignments_csv_after_the_session_ended(
    app: Flask, clock: StepClock, alice: Api, session_run: dict[str, Any]
) -> None:
    pid, keys = session_run["pid"], session_run["keys"]
    finish(app, clock, alice, pid, keys)
    response = alice.get(f"/projects/{pid}/assignments.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.splitlines()[0].split(",") == list(ASSIGNMENT_COLUMNS) == documented_columns("assignments.csv")
    stints = rows(text)
    assert [s["worker"] for s in stints] == keys
    assert [(s["platform_worker_id"], s["platform_assignment_id"]) for s in stints] == [
        (f"W{i}", f"A{i}") for i in range(4)]
    # Every stint has ended; each says the queue it left from.
    assert [(s["queue"], s["how"], s["left_source"]) for s in stints] == [
        ("active", "submitted", "socket"), ("active", "submitted", "socket"), ("active", "submitted", "socket"),
        ("waiting", "returned", "socket")]
    first, third, fourth = stints[0], stints[2], stints[3]
    assert (first["joined_s"], first["promoted_s"], first["ready_s"], first["ready_latency_s"], first["left_s"]) == (
        "10.000", "30.000", "32.000", "2.000", "100.000")
    assert stints[1]["ready_latency_s"] == "6.000"
    assert (third["promoted_s"], third["ready_s"], third["ready_latency_s"], third["left_s"]) == (
        "40.000", "", "", "200.000")
    assert (fourth["promoted_s"], fourth["ready_s"], fourth["pay_usd"], fourth["paid_usd"]) == ("", "", "0.00", "0.00")
    # The first: $0.10 reward, 20 s waiting at $7.25/h = $0.04, 70 s active at $12/h = $0.23.
    assert first["pay_usd"] == "0.37"
    assert first["paid_usd"] == "0.37"  # the local platform pays at once


def test_ledger_csv_has_one_row_per_ledger_line(
    app: Flask, clock: StepClock, alice: Api, session_run: dict[str, Any]
) -> None:
    pid, keys = session_run["pid"], session_run["keys"]
    finish(app, clock, alice, pid, keys)
    text = alice.get(f"/projects/{pid}/ledger.csv").get_data(as_text=True)
    assert text.splitlines()[0].split(",") == list(LEDGER_COLUMNS) == documented_columns("ledger.csv")
    lines = rows(text)
    with get_runtime(app).db.session_scope() as session:
        stored = {p.id: (p.key, p.kind, p.amount_cents, p.status) for p in session.query(Payment)}
    assert [int(line["line"]) for line in lines] == sorted(stored)
    assert {int(line["line"]): (line["idempotency_key"], line["kind"], round(float(line["amount_usd"]) * 100),
                                line["status"]) for line in lines} == stored
    first = [line for line in lines if line["worker"] == keys[0]]
    assert {line["kind"]: line["amount_usd"] for line in first} == {"reward": "0.10", "waiting": "0.04",
                                                                   "active": "0.23"}
    assert {(line["platform_worker_id"], line["platform_assignment_id"]) for line in first} == {("W0", "A0")}
    assert {line["worker"] for line in lines} == set(keys[:3])  # the returned worker has no line
    assert all(line["created_at"].startswith("2026-03-01T09:0") for line in lines)
    assert {line["status"] for line in lines} == {"paid"} and all(line["paid_at"] for line in lines)


def test_an_empty_ledger_is_a_header_only(alice: Api) -> None:
    pid = alice.post("/projects", project_json()).get_json()["id"]
    assert alice.get(f"/projects/{pid}/ledger.csv").get_data(as_text=True) == ",".join(LEDGER_COLUMNS) + "\n"


@pytest.mark.parametrize("path", ["", "/assignments.csv", "/ledger.csv", "/events.csv"])
def test_another_admins_token_gets_404(bob: Api, session_run: dict[str, Any], path: str) -> None:
    pid = session_run["pid"]
    response = bob.get(f"/projects/{pid}{path}")
    assert response.status_code == 404 and response.get_json() == {"error": f"no project {pid}"}


@pytest.mark.parametrize("path", ["/projects", "/projects/1/assignments.csv", "/projects/1/ledger.csv"])
def test_the_exports_need_a_token(app: Flask, session_run: dict[str, Any], path: str) -> None:
    assert app.test_client().get(f"/api{path}").status_code == 401
