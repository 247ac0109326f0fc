"""Events: facts the policy is told about, named in the past tense."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DepartureKind = Literal["submitted", "returned", "abandoned"]
DEPARTURE_KINDS: tuple[DepartureKind, ...] = ("submitted", "returned", "abandoned")


@dataclass(frozen=True, slots=True)
class JobLaunched:
    """The researcher launched the job: recruiting starts."""

    at: float


@dataclass(frozen=True, slots=True)
class WorkerJoined:
    """A worker took a slot and reached the task."""

    worker_id: str
    at: float


@dataclass(frozen=True, slots=True)
class WorkerLeft:
    """A worker left by submitting, returning or abandoning."""

    worker_id: str
    at: float
    how: DepartureKind


@dataclass(frozen=True, slots=True)
class StopRequested:
    """The researcher ended the job: everyone submits, nobody is hired."""

    at: float


@dataclass(frozen=True, slots=True)
class ExpireRequested:
    """The researcher closed recruitment; workers present stay."""

    at: float


@dataclass(frozen=True, slots=True)
class MigrationRequested:
    """The researcher asked to move a waiting worker into the active queue."""

    worker_id: str
    at: float
    force: bool = False


Event = JobLaunched | WorkerJoined | WorkerLeft | StopRequested | ExpireRequested | MigrationRequested
