"""The collector's pause watch: long passes are logged with their length, short ones only counted as longest."""

from __future__ import annotations

import gc
import logging

import pytest

from pavilion.errors import InputError
from pavilion.runtime import gcwatch


def test_a_pause_over_the_threshold_is_logged_once_with_its_length(caplog: pytest.LogCaptureFixture) -> None:
    ticks = iter([10.0, 10.250, 20.0, 20.010])
    watch = gcwatch.PauseWatch(threshold_ms=100, clock=lambda: next(ticks))
    with caplog.at_level(logging.WARNING, logger="pavilion.runtime.gcwatch"):
        watch("start", {"generation": 2})
        watch("stop", {"generation": 2, "collected": 7})
        watch("start", {"generation": 0})
        watch("stop", {"generation": 0, "collected": 0})
    assert watch.long_pauses == 1
    assert watch.longest_ms == pytest.approx(250)
    assert [r.getMessage() for r in caplog.records] == [
        "garbage collection (generation 2) paused the server for 250 ms (7 objects freed)"]


def test_install_hooks_the_real_collector_and_zero_means_no_watch() -> None:
    assert gcwatch.install(0) is None
    watch = gcwatch.install(1e9)
    assert watch is not None
    try:
        gc.collect()
        assert watch.longest_ms > 0 and watch.long_pauses == 0
    finally:
        gc.callbacks.remove(watch)


def test_thresholds_are_three_positive_whole_numbers_or_one_line_naming_the_variable() -> None:
    assert gcwatch.thresholds("10000,20,100") == (10000, 20, 100)
    for bad in ("", "1,2", "1,2,3,4", "a,b,c", "0,10,10", "700, 10, -1"):
        with pytest.raises(InputError, match="PAVILION_GC_THRESHOLDS must be three positive whole numbers"):
            gcwatch.thresholds(bad)
