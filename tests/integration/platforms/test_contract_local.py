"""The platform contract run against the local platform (the lab's join link)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest

from pavilion.runtime.platforms.base import PlatformProject, SubmitForm
from pavilion.runtime.platforms.local import LocalPlatform

from .contract import Harness, How, PlatformContract


class LabDriver:
    """A lab participant opens the join link; nothing happens on a platform when they leave."""

    def __init__(self, platform: LocalPlatform) -> None:
        self.platform = platform

    def arrive(self, project: PlatformProject, worker: str) -> Mapping[str, str] | None:
        return {"worker": worker} if self.platform.open_places(project) > 0 else None

    def preview(self, project: PlatformProject) -> Mapping[str, str] | None:
        return None

    def leave(self, project: PlatformProject, args: Mapping[str, str], how: How, form: SubmitForm | None) -> None:
        return None

    def open_slots(self, project: PlatformProject) -> int:
        return self.platform.open_places(project)

    def payments(self, project: PlatformProject) -> list[Decimal] | None:
        return None


@pytest.fixture
def harness() -> Harness:
    platform = LocalPlatform({}, {})
    return Harness(
        name="local",
        platform=platform,
        driver=LabDriver(platform),
        forged=[{"worker": "bad id!"}, {"worker": "x" * 65}, {"worker": "<script>"}],
        reports_departures=False,
        malformed=[{"worker": "../join/1"}, {"worker": "lab\n7"}, {"worker": "lab\x007"}, {"worker": "x" * 65}],
    )


class TestContractLocal(PlatformContract):
    """Every contract test, on the local platform."""


def test_a_roster_admits_only_listed_ids() -> None:
    platform = LocalPlatform({"roster": ["p1"]}, {"SECRET_KEY": "lab-secret"})
    project = PlatformProject(1, "lab", {}, {"hired": 2}, {}, {}, "", status="live")
    code = platform.roster_code(1, "p1")  # each roster id joins with its own code
    assert platform.identify(project, {"worker": "p1", "code": code}).worker_id == "p1"  # type: ignore[union-attr]
    for args, message in (({"worker": "p2"}, "not on this session's roster"), ({}, "needs your lab id"),
                          ({"worker": "p1"}, "lacks its code"), ({"worker": "p1", "code": "0" * 16}, "is wrong")):
        with pytest.raises(Exception, match=message):
            platform.identify(project, args)


def test_places_reopen_when_not_occupied() -> None:
    platform = LocalPlatform({}, {})
    full = PlatformProject(1, "lab", {}, {"hired": 2}, {}, {}, "", status="live", occupied=2)
    assert platform.open_places(full) == 0
    assert platform.open_places(PlatformProject(1, "lab", {}, {"hired": 2}, {}, {}, "", occupied=1)) == 1


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="platform.colour"):
        LocalPlatform.validate_settings({"colour": "red"})
    with pytest.raises(ValueError, match="done_url"):
        LocalPlatform.validate_settings({"done_url": "javascript:x"})
    assert LocalPlatform({"done_url": "/thanks"}, {}).submit_target(None, None) == SubmitForm("/thanks", method="GET")  # type: ignore[arg-type]
