"""Worker pay from server times: waiting and active wages, rounded half-up to the cent at payout."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
PAY_KEYS = ("reward", "waiting_wage_per_hour", "active_wage_per_hour")


def to_cents(amount: Decimal) -> int:
    """Dollars to whole cents, half-up."""
    return int((amount / CENT).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rate(pay: Mapping[str, Any], key: str) -> Decimal:
    """A pay rate from the project's pay mapping (decimal strings); missing means zero."""
    try:
        return Decimal(str(pay.get(key, "0")))
    except InvalidOperation:
        raise ValueError(f"pay.{key} must be a number, got {pay.get(key)!r}") from None


def seconds_between(start: datetime | None, end: datetime | None) -> Decimal:
    """Whole elapsed seconds (microsecond precision), never negative; zero when either end is missing."""
    if start is None or end is None:
        return Decimal(0)
    delta = end - start
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return max(Decimal(0), Decimal(micros) / Decimal(1_000_000))


def waiting_seconds(
    joined_at: datetime, promoted_at: datetime | None, left_at: datetime | None, now: datetime
) -> Decimal:
    """Time spent in the waiting queue: from joining until promotion, departure or now."""
    end = promoted_at or left_at or now
    return seconds_between(joined_at, end)


def active_seconds(promoted_at: datetime | None, left_at: datetime | None, now: datetime) -> Decimal:
    """Time spent on the live task: from promotion until departure or now."""
    return seconds_between(promoted_at, left_at or now)


def wage(seconds: Decimal, per_hour: Decimal) -> Decimal:
    """Unrounded pay for `seconds` at `per_hour`."""
    return seconds * per_hour / Decimal(3600)


def earned_so_far(
    pay: Mapping[str, Any], joined_at: datetime, promoted_at: datetime | None, left_at: datetime | None, now: datetime
) -> Decimal:
    """Waiting plus active wages earned so far (the waiting room's display; the reward comes on submit), in dollars."""
    waited = wage(waiting_seconds(joined_at, promoted_at, left_at, now), rate(pay, "waiting_wage_per_hour"))
    worked = wage(active_seconds(promoted_at, left_at, now), rate(pay, "active_wage_per_hour"))
    return (waited + worked).quantize(CENT, rounding=ROUND_HALF_UP)


def payout_cents(
    pay: Mapping[str, Any], joined_at: datetime, promoted_at: datetime | None, left_at: datetime
) -> dict[str, int]:
    """The ledger lines owed to a worker who submitted: reward, waiting and active bonuses, each in cents."""
    return {
        "reward": to_cents(rate(pay, "reward")),
        "waiting": to_cents(
            wage(waiting_seconds(joined_at, promoted_at, left_at, left_at), rate(pay, "waiting_wage_per_hour"))
        ),
        "active": to_cents(wage(active_seconds(promoted_at, left_at, left_at), rate(pay, "active_wage_per_hour"))),
    }
