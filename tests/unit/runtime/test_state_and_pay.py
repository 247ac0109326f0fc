"""JobState (de)serialisation and pay arithmetic (server times, half-up cents)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pavilion.core import JobState, QueueConfig
from pavilion.runtime.pay import earned_so_far, payout_cents, to_cents
from pavilion.runtime.state import state_from_json, state_to_json

ids = st.lists(st.text(alphabet="abcdef0123456789", min_size=1, max_size=8), unique=True, max_size=6)


@given(ids, ids, st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_state_round_trips_through_json(waiting, active, launched, started, recruiting, stopped, expired) -> None:
    active = [w for w in active if w not in waiting]
    state = JobState(
        QueueConfig(1, 3, 0, 2), tuple(waiting), tuple(active), launched, started, recruiting, stopped, expired
    )
    assert state_from_json(json.loads(json.dumps(state_to_json(state)))) == state


def test_cents_round_half_up() -> None:
    assert to_cents(Decimal("0.005")) == 1
    assert to_cents(Decimal("0.0049")) == 0
    assert to_cents(Decimal("1.125")) == 113


T0 = datetime(2026, 1, 1, tzinfo=UTC)
PAY = {"reward": "0.10", "waiting_wage_per_hour": "7.25", "active_wage_per_hour": "12"}


def test_payout_splits_waiting_and_active_time() -> None:
    promoted, left = T0 + timedelta(seconds=600), T0 + timedelta(seconds=2400)
    assert payout_cents(PAY, T0, promoted, left) == {"reward": 10, "waiting": 121, "active": 600}
    assert payout_cents(PAY, T0, None, T0 + timedelta(hours=1)) == {"reward": 10, "waiting": 725, "active": 0}


def test_earned_so_far_counts_up_to_now() -> None:
    assert earned_so_far(PAY, T0, None, None, T0 + timedelta(minutes=30)) == Decimal("3.63")  # 3.625 half-up
    assert earned_so_far(PAY, T0, None, None, T0 - timedelta(seconds=5)) == Decimal("0.00")  # clock skew: never < 0
