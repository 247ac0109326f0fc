"""The platform contract run against the MTurk adapter, the emulator over HTTP and notifications through SQS."""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pavilion.emulators.mturk.clock import ManualClock
from pavilion.emulators.mturk.emulator import Emulator
from pavilion.emulators.mturk.server import RunningEmulator, running_emulator
from pavilion.runtime.platforms.base import PlatformProject, SubmitForm
from pavilion.runtime.platforms.mturk.adapter import MTurkPlatform
from pavilion.runtime.platforms.mturk.consumer import poll_once
from pavilion.runtime.service import PolicyService

from ..platforms.contract import Harness, How, PlatformContract

pytestmark = pytest.mark.timeout(60)
CONTRACT_START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC).timestamp()  # the contract's server clock starts here


def made_up_id(n: int, prefix: str = "") -> str:
    """An id in MTurk's format that MTurk never issued."""
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(n - len(prefix)))


def mturk_worker(name: str) -> str:
    return "A" + "".join(c for c in name.upper() if c.isalnum())


class TurkDriver:
    """Workers on the emulator's worker side: find the project's HITs, accept, return, let the deadline pass."""

    def __init__(self, emu: RunningEmulator) -> None:
        self.emu = emu
        self.model = emu.emulator.model

    def _hits(self, project: PlatformProject) -> list[str]:
        return list(project.state.get("hits", []))

    def arrive(self, project: PlatformProject, worker: str) -> Mapping[str, str] | None:
        open_hits = {h["HITId"] for h in httpx.get(f"{self.emu.url}/_emu/hits").json()}
        for hit_id in self._hits(project):
            if hit_id in open_hits:
                got = httpx.post(f"{self.emu.url}/_emu/accept",
                                 json={"hit_id": hit_id, "worker_id": mturk_worker(worker)}).json()
                return dict(httpx.URL(got["url"]).params)
        return None

    def preview(self, project: PlatformProject) -> Mapping[str, str] | None:
        url = httpx.post(f"{self.emu.url}/_emu/preview", json={"hit_id": self._hits(project)[0]}).json()["url"]
        return dict(httpx.URL(url).params)

    def leave(self, project: PlatformProject, args: Mapping[str, str], how: How, form: SubmitForm | None) -> None:
        if how == "submitted":
            assert form is not None and form.method == "POST"
            assert httpx.post(form.url, data=dict(form.fields)).status_code == 200
        else:
            action = "return" if how == "returned" else "abandon"
            httpx.post(f"{self.emu.url}/_emu/{action}", json={"assignment_id": args["assignmentId"]})

    def open_slots(self, project: PlatformProject) -> int:
        with self.emu.emulator.lock:
            return sum(self.model.counts(self.model.hits[h])[1] for h in self._hits(project))

    def payments(self, project: PlatformProject) -> list[Decimal] | None:
        hits = set(self._hits(project))
        with self.emu.emulator.lock:
            rewards = [self.model.hit_types[self.model.hits[a.hit_id].hit_type_id].reward
                       for a in self.model.assignments.values() if a.hit_id in hits and a.status == "Approved"]
            return rewards + [b.amount for b in self.model.bonuses if b.hit_id in hits]


@pytest.fixture
def harness(aws_env: None, moto_server: str) -> Iterator[Harness]:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_server)
    queue_url = sqs.create_queue(QueueName=f"contract-{uuid.uuid4().hex}")["QueueUrl"]  # a fresh queue per test
    clock = ManualClock(CONTRACT_START)
    with running_emulator(Emulator(clock)) as emu:
        config: dict[str, Any] = {"PUBLIC_URL": "http://127.0.0.1:5000", "MTURK_ENDPOINT": emu.url,
                                  "MTURK_SQS_QUEUE_URL": queue_url, "MTURK_SQS_ENDPOINT": moto_server,
                                  "MTURK_MAX_ATTEMPTS": 2}
        platform = MTurkPlatform({}, config)
        foreign = MTurkPlatform({}, config).hire(
            PlatformProject(99, "someone else's", {}, {}, {"title": "other"}, {"reward": "0.10"},
                            "http://127.0.0.1:5000"), 1, "foreign")
        assert foreign is not None
        forged = [{}, {"assignmentId": "x y", "hitId": "H", "workerId": "AW1"},
                  {"assignmentId": "ASG1", "hitId": foreign["hits"][0], "workerId": "AW1"},
                  {"assignmentId": "ASG1", "hitId": foreign["hits"][0]}]

        def sync(service: PolicyService, pid: int) -> None:
            emu.emulator.dispatcher.flush()
            poll_once(service)  # the notifications first, reconciliation for whatever they missed
            service.reconcile(pid)

        def advance(seconds: float) -> None:
            emu.emulator.advance(seconds)

        def made_up(project: PlatformProject) -> list[dict[str, str]]:
            hit_id = project.state["hits"][0]  # public: it is in every preview link
            return [{"assignmentId": made_up_id(30), "hitId": hit_id, "workerId": made_up_id(14, "A"),
                     "turkSubmitTo": emu.url} for _ in range(8)]

        def reassign(args: Mapping[str, str]) -> dict[str, str]:
            return {**args, "assignmentId": made_up_id(30)}

        hit_like = made_up_id(30)
        malformed = [{"assignmentId": made_up_id(29), "hitId": hit_like, "workerId": "AW1"},
                     {"assignmentId": "../" + made_up_id(27), "hitId": hit_like, "workerId": "AW1"},
                     {"assignmentId": made_up_id(30), "hitId": hit_like + "\r\n", "workerId": "AW1"},
                     {"assignmentId": made_up_id(30).lower(), "hitId": hit_like, "workerId": "AW1"},
                     {"assignmentId": made_up_id(30), "hitId": hit_like, "workerId": "BW1"}]
        yield Harness(name="mturk", platform=platform, driver=TurkDriver(emu), settings={}, config=config,
                      forged=forged, reports_departures=True, sync=sync, advance=advance,
                      made_up=made_up, reassign=reassign, malformed=malformed)


class TestContractMTurk(PlatformContract):
    """Every contract test, on MTurk (emulated)."""
