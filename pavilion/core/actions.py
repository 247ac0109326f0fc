"""Actions: commands the policy gives its shell, named as imperatives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RejectReason = Literal["job_full", "stopped"]


@dataclass(frozen=True, slots=True)
class Hire:
    """Open `count` new slots on the crowd platform."""

    count: int


@dataclass(frozen=True, slots=True)
class Promote:
    """Move this waiting worker to the live task."""

    worker_id: str


@dataclass(frozen=True, slots=True)
class Reject:
    """Send this joining worker away; the platform re-opens their slot."""

    worker_id: str
    reason: RejectReason


@dataclass(frozen=True, slots=True)
class StopAll:
    """Tell every connected worker to submit now."""


@dataclass(frozen=True, slots=True)
class ExpireRecruitment:
    """Withdraw every open slot from the platform."""


Action = Hire | Promote | Reject | StopAll | ExpireRecruitment
