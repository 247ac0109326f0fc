"""Promotion-to-ready latency from event-log rows, and its percentiles (numpy's default interpolation)."""

import math

import numpy as np
import pytest

from pavilion.core.latency import latency_summary, percentile, ready_latencies


def test_each_worker_counts_once_from_the_first_promotion_to_the_first_ready() -> None:
    rows = [
        (0.0, "", "launched"), (1.0, "a", "joined"), (2.0, "b", "joined"), (5.0, "a", "promoted"),
        (5.5, "a", "ready"), (6.0, "b", "promoted"), (7.0, "a", "ready"), (8.0, "c", "ready"),
        (9.0, "b", "promoted"), (12.0, "b", "ready"), (13.0, "d", "promoted"),
    ]
    assert ready_latencies(rows) == {"a": 0.5, "b": 6.0}  # c never promoted, d never ready


@pytest.mark.parametrize("values", [[3.0], [1.0, 4.0], [0.2, 0.1, 5.0, 2.5, 2.5, 9.0, 0.0]])
@pytest.mark.parametrize("q", [0, 10, 50, 90, 100])
def test_percentiles_match_numpy(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_no_values_and_bad_percentiles() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="within 0..100"):
        percentile([1.0], 101)


def test_the_summary() -> None:
    assert latency_summary([2.0, 6.0]) == {"count": 2, "p50": 4.0, "p90": pytest.approx(5.6), "max": 6.0}
    assert latency_summary([]) == {"count": 0, "p50": None, "p90": None, "max": None}
