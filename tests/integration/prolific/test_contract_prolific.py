"""The platform contract run against the Prolific adapter and its emulator, webhooks included."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.emulator import ProlificEmulator
from pavilion.emulators.prolific.server import RunningEmulator, running_emulator
from pavilion.runtime.platforms.base import PlatformProject, SubmitForm
from pavilion.runtime.platforms.prolific.adapter import ProlificPlatform
from pavilion.runtime.service import PolicyService
from tests.integration.platforms.contract import Harness, How, PlatformContract

from .conftest import TOKEN, Receiver

pytestmark = pytest.mark.timeout(60)
SETTINGS = {"estimated_minutes": 10}


def participant(name: str) -> str:
    """A Prolific participant id (24 hexadecimal digits) for a test worker's name."""
    return hashlib.sha256(name.encode()).hexdigest()[:24]


def malformed() -> list[dict[str, str]]:
    """Crafted ids that must never reach the authenticated API: traversal, control characters, wrong lengths."""
    pid, study, session = participant("p1"), "0" * 24, "1" * 24
    return [{"PROLIFIC_PID": pid, "STUDY_ID": study, "SESSION_ID": f"../studies/{study}"},
            {"PROLIFIC_PID": pid, "STUDY_ID": study, "SESSION_ID": session[:23] + "\n"},
            {"PROLIFIC_PID": pid, "STUDY_ID": study, "SESSION_ID": session + "\x00"},
            {"PROLIFIC_PID": pid, "STUDY_ID": study, "SESSION_ID": session[:23]},
            {"PROLIFIC_PID": pid + "0", "STUDY_ID": study, "SESSION_ID": session},
            {"PROLIFIC_PID": "p1", "STUDY_ID": study, "SESSION_ID": session},
            {"PROLIFIC_PID": pid, "STUDY_ID": "../" + study[3:], "SESSION_ID": session},
            {"PROLIFIC_PID": pid, "STUDY_ID": study, "SESSION_ID": "g" * 24}]


class ParticipantDriver:
    """Prolific participants played on the emulator: take a place, open the study link, finish or leave."""

    def __init__(self, running: RunningEmulator, driver: EmulatorDriver) -> None:
        self.running, self.driver = running, driver

    def _study(self, project: PlatformProject) -> str:
        return str(project.state["study_id"])

    def arrive(self, project: PlatformProject, worker: str) -> Mapping[str, str] | None:
        if self.open_slots(project) <= 0:
            return None
        sub = self.driver.start(self.driver.reserve(self._study(project), participant(worker))["id"])
        return {"PROLIFIC_PID": participant(worker), "STUDY_ID": self._study(project), "SESSION_ID": sub["id"]}

    def preview(self, project: PlatformProject) -> Mapping[str, str] | None:
        # The researcher's own preview of the study link: Prolific leaves the placeholders unfilled.
        return {"PROLIFIC_PID": "{{%PROLIFIC_PID%}}", "STUDY_ID": "{{%STUDY_ID%}}", "SESSION_ID": "{{%SESSION_ID%}}"}

    def leave(self, project: PlatformProject, args: Mapping[str, str], how: How, form: SubmitForm | None) -> None:
        session = args["SESSION_ID"]
        if how == "submitted":
            assert form is not None and "cc=" in form.url  # the page sends them back to Prolific with a code
            self.driver.complete(session, form.url.rsplit("cc=", 1)[1])
        elif how == "returned":
            self.driver.return_submission(session)
        else:
            self.driver.time_out(session)

    def open_slots(self, project: PlatformProject) -> int:
        with self.running.emulator.lock:
            state = self.running.emulator.state
            study = state.studies[self._study(project)]
            if study.status != "ACTIVE":
                return 0
            return study.total_available_places - state.places_taken(study)

    def payments(self, project: PlatformProject) -> list[Decimal] | None:
        with self.running.emulator.lock:
            state = self.running.emulator.state
            study = state.studies[self._study(project)]
            rewards = [Decimal(study.reward) / 100 for s in state.submissions.values() if s.status == "APPROVED"]
            return rewards + [Decimal(row["cents"]) / 100 for row in state.payments]


@pytest.fixture
def emu_clock() -> ManualClock:
    """The emulator's clock (the contract's own `clock` fixture is the server's)."""
    return ManualClock(start=1_800_000_000.0)


@pytest.fixture
def running(emu_clock: ManualClock) -> Iterator[RunningEmulator]:
    with running_emulator(ProlificEmulator(token=TOKEN, clock=emu_clock, seed=5), deliver=False) as live:
        yield live


@pytest.fixture
def receiver_hooks(
    running: RunningEmulator, driver: EmulatorDriver, receiver: Receiver
) -> tuple[RunningEmulator, EmulatorDriver, Receiver]:
    driver.switches(duplicate=True)  # at-least-once delivery, for real
    return running, driver, receiver


@pytest.fixture
def harness(
    receiver_hooks: tuple[RunningEmulator, EmulatorDriver, Receiver], emu_clock: ManualClock, tmp_path: Path
) -> Iterator[Harness]:
    running, driver, receiver = receiver_hooks
    config = {
        "PROLIFIC_TOKEN": TOKEN,
        "PROLIFIC_API_URL": running.api_url,
        "PROLIFIC_BACKOFF_S": 0.001,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'contract.sqlite'}",
        "PUBLIC_URL": receiver.url.rsplit("/hooks", 1)[0],  # Prolific posts webhooks under it
    }
    platform = ProlificPlatform(SETTINGS, config, clock=emu_clock.now)
    delivered: set[int] = set()

    def sync(service: PolicyService, pid: int) -> None:
        """Deliver the emulator's webhooks into the adapter and the service, then reconcile, as the server does."""
        driver.flush()
        adapter, view = service.platform_view(pid)
        for index, request in enumerate(list(receiver.received)):
            if index in delivered:
                continue
            delivered.add(index)
            departure = adapter.webhook(view, request["headers"], request["body"])
            if departure is not None:
                service.platform_departure(pid, departure, source="webhook")
        service.reconcile(pid)

    def made_up(project: PlatformProject) -> list[dict[str, str]]:
        """The study id is public; a made-up session, and someone else's real session, must not get a place."""
        study = str(project.state["study_id"])
        someone = driver.start(driver.reserve(study, participant("someone"))["id"])["id"]
        return [{"PROLIFIC_PID": secrets.token_hex(12), "STUDY_ID": study, "SESSION_ID": secrets.token_hex(12)},
                {"PROLIFIC_PID": participant("worker1"), "STUDY_ID": study, "SESSION_ID": secrets.token_hex(12)},
                {"PROLIFIC_PID": secrets.token_hex(12), "STUDY_ID": study, "SESSION_ID": someone}]

    yield Harness(
        name="prolific",
        platform=platform,
        driver=ParticipantDriver(running, driver),
        settings=dict(SETTINGS),
        config=config,
        forged=[
            {},
            {"PROLIFIC_PID": participant("p1"), "STUDY_ID": "0" * 24, "SESSION_ID": "1" * 24},
            {"PROLIFIC_PID": participant("p1"), "SESSION_ID": "1" * 24},
        ],
        made_up=made_up,
        reassign=lambda args: {**args, "SESSION_ID": secrets.token_hex(12)},
        malformed=malformed(),
        sync=sync,
        advance=emu_clock.advance,
    )


class TestContractProlific(PlatformContract):
    """Every contract test, on Prolific."""
