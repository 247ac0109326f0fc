"""The PlatformHost the runtime hands adapters: what PolicyService answers, and what create_app wires in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pavilion.runtime.app import create_app
from pavilion.runtime.context import get_runtime
from pavilion.runtime.platforms.base import Identity, PlatformHost, host_of
from pavilion.runtime.service import PolicyService

from .conftest import ManualClock
from .helpers import new_project


def test_views_of_a_platform_s_projects_that_may_still_have_workers(service: PolicyService) -> None:
    draft, live, stopped = (new_project(service) for _ in range(3))
    service.launch(live)
    service.launch(stopped)
    service.stop(stopped)
    views = service.platform_projects("local")
    assert [v.id for v in views] == [live, stopped] and draft not in [v.id for v in views]
    assert [v.status for v in views] == ["live", "stopped"] and views[0].public_url == "http://lab.test"
    assert service.platform_projects("mturk") == []


def test_stints_holding_an_assignment_are_the_present_ones_oldest_first(
    service: PolicyService, clock: ManualClock
) -> None:
    pid = new_project(service)
    service.launch(pid)
    t0 = clock.now
    first = service.join(pid, Identity("w1", "shared-id"))
    clock.advance(5)
    service.join(pid, Identity("w2", "shared-id"))
    service.join(pid, Identity("w3", "other-id"))
    assert service.stints(pid, "shared-id") == [("w1", t0), ("w2", t0 + timedelta(seconds=5))]
    assert service.depart(pid, first.assignment_key, "returned", source="socket")
    assert service.stints(pid, "shared-id") == [("w2", t0 + timedelta(seconds=5))]
    assert service.stints(pid, "nobody") == []


def test_an_unknown_project_is_a_lookup_error(service: PolicyService) -> None:
    with pytest.raises(LookupError):
        service.platform_view(12345)


def test_periodic_jobs_need_a_background_loop(service: PolicyService) -> None:
    with pytest.raises(RuntimeError, match="no background loop"):
        service.add_periodic("job", 1.0, lambda: None)


def test_create_app_registers_the_service_as_host_with_its_loop(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k", "ENV": "testing"})
    runtime = get_runtime(app)
    host: PlatformHost = host_of(app)
    assert host is runtime.service and host.journal_engine() is runtime.db.engine
    runs: list[Any] = []
    host.add_periodic("adapter-job", 1.0, lambda: runs.append(1))
    host.add_periodic("adapter-job", 1.0, lambda: runs.append(2))  # hooked twice: kept once
    assert [job.name for job in runtime.periodic].count("adapter-job") == 1
    runtime.run_due(now=10.0)
    assert runs == [1]
    runtime.shutdown()
