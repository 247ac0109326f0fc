"""The README's notebook example of the simulator runs as shown."""

from __future__ import annotations

import math
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def test_simulating_in_a_notebook_example_runs() -> None:
    text = README.read_text(encoding="utf-8").split("## Simulating in a notebook\n", 1)[1]
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    lines = code.strip().splitlines()
    assert len(lines) == 3
    namespace: dict[str, object] = {}
    exec("\n".join(lines[:-1]) + "\n_result = " + lines[-1], namespace)
    metrics = namespace["_result"]
    assert isinstance(metrics, dict) and 0 <= metrics["availability"] <= 1 and not math.isnan(metrics["cost_usd"])


def test_metrics_from_events_example_gives_the_runs_metrics() -> None:
    text = README.read_text(encoding="utf-8").split("## Simulating in a notebook\n", 1)[1]
    first, second = [block.split("```", 1)[0] for block in text.split("```python\n")[1:3]]
    lines = second.strip().splitlines()
    namespace: dict[str, object] = {}
    exec(first + "\n".join(lines[:-1]) + "\n_result = " + lines[-1], namespace)
    again, run = namespace["_result"], namespace["run"]
    assert isinstance(again, dict)
    for name, value in run.metrics.items():  # type: ignore[attr-defined]
        assert (math.isnan(value) and math.isnan(again[name])) or value == again[name], name
