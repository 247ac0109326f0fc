"""Pure queue policies: `step(state, event) -> (state, actions)`; standard library only."""

from pavilion.core import on_demand as _on_demand  # noqa: F401  (registers "on-demand")
from pavilion.core import pavilion_policy as _pavilion  # noqa: F401  (registers "pavilion")
from pavilion.core.actions import Action, ExpireRecruitment, Hire, Promote, Reject, StopAll
from pavilion.core.config import QueueConfig
from pavilion.core.events import (
    DEPARTURE_KINDS,
    Event,
    ExpireRequested,
    JobLaunched,
    MigrationRequested,
    StopRequested,
    WorkerJoined,
    WorkerLeft,
)
from pavilion.core.policy import POLICIES, Policy, get_policy, register
from pavilion.core.state import JobState

__all__ = [
    "DEPARTURE_KINDS",
    "POLICIES",
    "Action",
    "Event",
    "ExpireRecruitment",
    "ExpireRequested",
    "Hire",
    "JobLaunched",
    "JobState",
    "MigrationRequested",
    "Policy",
    "Promote",
    "QueueConfig",
    "Reject",
    "StopAll",
    "StopRequested",
    "WorkerJoined",
    "WorkerLeft",
    "get_policy",
    "register",
]
