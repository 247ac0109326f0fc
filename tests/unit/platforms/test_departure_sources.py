"""Platform time-outs are marked so the event log names them `timeout` (DESIGN.md section 9), and only they are."""

from __future__ import annotations

import pytest

from pavilion.runtime.platforms.prolific.reconcile import departure


@pytest.mark.parametrize(
    ("status", "how", "timed_out"),
    [("TIMED-OUT", "abandoned", True), ("RETURNED", "returned", False), ("AWAITING REVIEW", "submitted", False)],
)
def test_only_a_prolific_time_out_is_a_timeout(status: str, how: str, timed_out: bool) -> None:
    gone = departure(1, "a" * 24, "b" * 24, status)
    assert gone is not None and (gone.how, gone.timed_out) == (how, timed_out)
