"""Queue sizes of a job, validated once so the policies can trust them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """Bounds on the active and waiting queues; bad values raise ValueError naming the field."""

    min_active: int
    max_active: int
    min_waiting: int = 0
    max_waiting: int = 0

    def __post_init__(self) -> None:
        for name in ("min_active", "max_active", "min_waiting", "max_waiting"):
            value = getattr(self, name)
            # bool is an int subclass; True as a queue size is always a mistake.
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if self.min_active < 1:
            raise ValueError(f"min_active must be >= 1, got {self.min_active}")
        if self.max_active < self.min_active:
            raise ValueError(f"max_active ({self.max_active}) must be >= min_active ({self.min_active})")
        if self.min_waiting < 0:
            raise ValueError(f"min_waiting must be >= 0, got {self.min_waiting}")
        if self.max_waiting < self.min_waiting:
            raise ValueError(f"max_waiting ({self.max_waiting}) must be >= min_waiting ({self.min_waiting})")
