"""The shipped scenario presets: found by name, each citing its source, unknown names listing the known ones."""

from __future__ import annotations

import tomllib

import pytest

from pavilion.errors import InputError
from pavilion.sim.presets import preset_names, preset_path


def test_presets_are_scenarios_that_cite_their_source() -> None:
    assert {"chorus", "ignition_on_demand", "ignition_hybrid", "retainer_alert"} <= set(preset_names())
    for name in preset_names():
        text = preset_path(name).read_text()
        assert "Source (reference/literature.md" in text, name
        data = tomllib.loads(text)
        assert data["name"] == name
        assert {"policy", "workload", "payment", "run"} <= set(data)


def test_chorus_uses_the_published_latency() -> None:
    data = tomllib.loads(preset_path("chorus").read_text())
    assert data["workload"]["arrivals"] == {"mode": "per_slot", "time_to_fill_s": {
        "dist": "lognormal", "mean": 72.01, "sd": 87.09}}


def test_presets_use_the_platforms_slot_rules_and_load() -> None:
    from pavilion.sim import load_scenario

    ranges = {"ignition_on_demand": (60, 120), "ignition_hybrid": (20, 90)}
    for name in preset_names():
        s = load_scenario(preset_path(name))
        w = s.workload
        assert (w.assignment_duration_s, w.abandoned_slot_reopens) == (1800, "at_deadline"), name
        assert w.arrivals.mode == "per_slot" and w.arrivals.rate_per_hour is None, name
        assert w.hire_delay_s.kind == "constant" and w.hire_delay_s.params == {"value": 0.0}, name
        if name in ranges:
            assert w.arrivals.time_to_fill_s is not None
            assert w.arrivals.time_to_fill_s.params == dict(zip(("low", "high"), map(float, ranges[name]), strict=True))
    text = preset_path("retainer_alert").read_text()
    assert "What it models" in text and "What it does not model" in text


def test_unknown_preset_lists_the_known_ones() -> None:
    known = preset_names()
    assert "chorus" in known
    with pytest.raises(InputError, match="unknown preset") as info:
        preset_path("nope")
    assert all(name in str(info.value) for name in known)
