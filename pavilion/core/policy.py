"""The policy interface and the registry that names policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pavilion.core.actions import Action
from pavilion.core.config import QueueConfig
from pavilion.core.events import Event
from pavilion.core.state import JobState

Step = tuple[JobState, list[Action]]


class Policy(Protocol):
    """A pure queue policy: `step(state, event) -> (state, actions)`.

    `reads` names the QueueConfig fields its rules use: two configs equal on them behave the same (a study need
    not run both)."""

    name: str
    reads: tuple[str, ...]

    def initial_state(self, config: QueueConfig) -> JobState: ...

    def step(self, state: JobState, event: Event) -> Step: ...


POLICIES: dict[str, Callable[[], Policy]] = {}


def register(name: str) -> Callable[[Callable[[], Policy]], Callable[[], Policy]]:
    """Class decorator adding a policy factory to POLICIES under `name`."""

    def add(factory: Callable[[], Policy]) -> Callable[[], Policy]:
        if name in POLICIES:
            raise ValueError(f"policy {name!r} is already registered")
        POLICIES[name] = factory
        return factory

    return add


def get_policy(name: str) -> Policy:
    """Return the policy registered as `name`; ValueError lists the known names otherwise."""
    try:
        factory = POLICIES[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(POLICIES))
        raise ValueError(f"unknown policy {name!r}; known policies: {known}") from None
    return factory()
