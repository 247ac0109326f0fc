"""Regime maps: which keys make a map, what each panel holds, and significance marks (synthetic summaries)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pavilion.sim.maps import map_keys, regime_map
from pavilion.sim.plots import save

KEYS = ["policy.name", "workload.arrivals.rate_per_hour", "workload.hire_delay_s.value"]


def summary() -> pd.DataFrame:
    rows = []
    for name in ("pavilion", "on-demand"):
        for rate in (24, 48):
            for delay in (0, 120, 600):
                gain = 0.05 if name == "pavilion" else 0.0
                rows.append({"policy.name": name, "workload.arrivals.rate_per_hour": rate,
                             "workload.hire_delay_s.value": delay, "runs": 10,
                             "availability_mean": 0.9 - delay / 6000 + gain, "availability_ci95": 0.01,
                             "availability_diff_mean": gain * delay / 600, "availability_diff_ci95": 0.02})
    return pd.DataFrame(rows)


def test_two_numeric_swept_keys_make_a_map_the_fastest_along_x() -> None:
    assert map_keys(summary(), KEYS) == ("workload.hire_delay_s.value", "workload.arrivals.rate_per_hour")
    assert map_keys(summary(), KEYS[:2]) is None
    one_value = summary()[lambda f: f["workload.arrivals.rate_per_hour"] == 24]
    assert map_keys(one_value, KEYS) is None


def test_a_map_has_a_panel_per_setting_of_the_other_keys_with_every_cell_annotated(tmp_path: Path) -> None:
    fig = regime_map(summary(), KEYS, "workload.hire_delay_s.value", "workload.arrivals.rate_per_hour",
                     "availability")
    assert fig is not None
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["name=pavilion", "name=on-demand"]
    assert all(len(ax.texts) == 6 for ax in panels)
    assert np.array(panels[0].images[0].get_array())[0, 0] == pytest.approx(0.95)  # rate 24, delay 0
    assert save(fig, tmp_path / "map_availability.png") == "map_availability.png"


def test_a_difference_map_leaves_out_the_baseline_and_marks_significance() -> None:
    frame = summary()
    base = [6 + i % 6 if i < 6 else i for i in range(len(frame))]  # pavilion rows against on-demand at equal keys
    fig = regime_map(frame, KEYS, "workload.hire_delay_s.value", "workload.arrivals.rate_per_hour", "availability",
                     base)
    assert fig is not None
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["name=pavilion"]
    starred = [t.get_text().endswith("*") for t in panels[0].texts]
    # diff 0 (delay 0), 0.01 (120: CI 0.02 includes 0), 0.05 (600: excluded), at both rates
    assert starred == [False, False, True, False, False, True]
    hatched = [p for p in panels[0].patches if p.get_hatch()]
    assert len(hatched) == 4
