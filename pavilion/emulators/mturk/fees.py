"""MTurk's commission as the emulator charges it (mturk.com/pricing): 20%, +20% on reward for 10+ assignments."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
BASE_RATE = Decimal("0.20")
LARGE_HIT_RATE = Decimal("0.40")
LARGE_HIT_ASSIGNMENTS = 10


def commission(amount: Decimal, rate: Decimal) -> Decimal:
    """Fee on one assignment or bonus: rounded half-up to the cent, never below one cent."""
    return max(CENT, (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP))


def reward_fee(reward: Decimal, max_assignments: int) -> Decimal:
    rate = LARGE_HIT_RATE if max_assignments >= LARGE_HIT_ASSIGNMENTS else BASE_RATE
    return commission(reward, rate)


def bonus_fee(bonus: Decimal) -> Decimal:
    return commission(bonus, BASE_RATE)
