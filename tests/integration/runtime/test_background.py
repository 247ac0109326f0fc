"""The background loop: outbox recovery at start-up, periodic jobs that survive each other's failures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.models import Outbox
from pavilion.runtime.projects import parse_project

from .helpers import project_json


def test_periodic_jobs_run_when_due_and_fail_alone(tmp_path: Path) -> None:
    runtime = get_runtime(create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k", "ENV": "testing"}))
    runs: list[str] = []

    def broken() -> None:
        runs.append("broken")
        raise RuntimeError("platform unreachable")

    runtime.periodic = []
    runtime.add_periodic("broken", 5.0, broken)
    runtime.add_periodic("sweep", 1.0, lambda: runs.append("sweep"))
    runtime.run_due(now=100.0)
    runtime.run_due(now=100.5)  # nothing due yet
    runtime.run_due(now=101.0)  # the sweep again, not the 5-second job
    assert runs == ["broken", "sweep", "sweep"]
    runtime.shutdown()


@pytest.mark.timeout(30)
def test_a_restart_runs_what_the_last_process_left_pending(tmp_path: Path) -> None:
    config = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k", "ENV": "testing"}
    first = get_runtime(create_app(config))
    first.service.spawn = lambda fn, *args: None  # the process dies before running its outbox
    pid = first.service.create_project(parse_project(project_json()))
    first.service.launch(pid)
    first.shutdown()

    second = get_runtime(create_app({**config, "BACKGROUND_TASKS": True}))
    try:
        deadline = time.monotonic() + 20
        while True:
            with second.db.session_scope() as s:
                status = s.scalars(select(Outbox.status)).one()
            if status == "done" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == "done"
        assert second.service.platform_view(pid)[1].state["hired"] == 6
    finally:
        second.shutdown()
