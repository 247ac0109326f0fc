"""JobState to and from the JSON stored on the project row (the core stays free of serialisation)."""

from __future__ import annotations

from typing import Any

from pavilion.core import JobState, QueueConfig

_FLAGS = ("launched", "started", "recruiting", "stopped", "expired")
_BOUNDS = ("min_active", "max_active", "min_waiting", "max_waiting")


def state_to_json(state: JobState) -> dict[str, Any]:
    """A JSON-ready dict: the queue bounds, both queues (in order) and the phase flags."""
    out: dict[str, Any] = {
        "config": {name: getattr(state.config, name) for name in _BOUNDS},
        "waiting": list(state.waiting),
        "active": list(state.active),
    }
    out.update({flag: getattr(state, flag) for flag in _FLAGS})
    return out


def state_from_json(data: dict[str, Any]) -> JobState:
    """The inverse of state_to_json."""
    config = QueueConfig(**{name: int(data["config"][name]) for name in _BOUNDS})
    flags = {flag: bool(data.get(flag, False)) for flag in _FLAGS}
    return JobState(config, tuple(data["waiting"]), tuple(data["active"]), **flags)
