"""A recording platform for service tests: unlimited places, every call kept, failures injected on demand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pavilion.runtime.platforms.base import (
    Departure,
    Identity,
    PaymentOrder,
    PlatformAssignment,
    PlatformError,
    PlatformProject,
    Preview,
    SubmitForm,
)


class RecordingPlatform:
    """Counts what reached the platform, by idempotency key, as a real platform's ledger would."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []  # (method, key) of every call that got through
        self.failures: list[PlatformError | Exception | None] = []  # raised in order by the next calls (None: pass)
        self.paid: dict[str, Decimal] = {}  # key -> amount: a repeat with the same key pays nothing more
        self.departures: list[Departure] = []  # what reconcile reports

    def factory(self, name: str, settings: Mapping[str, Any], config: Mapping[str, Any]) -> RecordingPlatform:
        return self

    def _call(self, method: str, key: str) -> None:
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        self.calls.append((method, key))

    def hire(self, project: PlatformProject, count: int, key: str) -> dict[str, Any] | None:
        self._call("hire", key)
        return {**project.state, "hired": int(project.state.get("hired", 0)) + count}

    def expire(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        self._call("expire", key)
        return None

    def stop(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        self._call("stop", key)
        return None

    def identify(self, project: PlatformProject, args: Mapping[str, str]) -> Identity | Preview:
        return Identity(args["worker"], args["assignment"])

    def admit(self, project: PlatformProject, identity: Identity) -> None:
        return None

    def submit_target(self, project: PlatformProject, assignment: PlatformAssignment) -> SubmitForm | None:
        return None

    def reconcile(self, project: PlatformProject, present: Sequence[PlatformAssignment]) -> list[Departure]:
        ids = {(a.worker_id, a.assignment_id) for a in present}
        return [d for d in self.departures if (d.worker_id, d.assignment_id) in ids]

    def pay(self, project: PlatformProject, order: PaymentOrder) -> str:
        self._call("pay", order.key)
        self.paid.setdefault(order.key, order.amount)
        return f"ref-{order.key}"

    def fee(self, amount: Decimal) -> Decimal:
        return (amount * Decimal("0.20")).quantize(Decimal("0.01"))
