"""SimPy simulator of the reference workload model, driven by the `pavilion.core` policies.

```python
from pavilion.sim import load_scenario, simulate
scenario = load_scenario(None, overrides={"policy.max_waiting": 2})   # None: the embedded default
simulate(scenario, seed=1).metrics["availability"]
metrics_from_events(simulate(scenario, seed=1, event_log=True).event_log, scenario)   # the same numbers
exact(markovian_scenario).metrics["availability"]   # exponential scenarios: the Markov chain's steady state
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pavilion.sim.lazy_exports import install

# Names are imported on first use so that `import pavilion.sim.<module>` (e.g. the command line's registration)
# does not pay for pandas, scipy and SimPy. The TYPE_CHECKING block keeps the names typed for mypy.
_EXPORTS: dict[str, str] = {
    "calibrate": "pavilion.sim.calibration",
    "DEFAULT_SCENARIO_TOML": "pavilion.sim.defaults",
    "Distribution": "pavilion.sim.distributions",
    "EVENT_KINDS": "pavilion.sim.eventlog",
    "EVENT_LOG_COLUMNS": "pavilion.sim.eventlog",
    "TIMELINE_COLUMNS": "pavilion.sim.eventlog",
    "ExactResult": "pavilion.sim.exact",
    "exact": "pavilion.sim.exact",
    "METRICS": "pavilion.sim.metrics",
    "metrics_from_events": "pavilion.sim.replay",
    "RunResult": "pavilion.sim.run",
    "simulate": "pavilion.sim.run",
    "Arrivals": "pavilion.sim.scenario",
    "ExitMix": "pavilion.sim.scenario",
    "Payment": "pavilion.sim.scenario",
    "PolicySettings": "pavilion.sim.scenario",
    "RunSettings": "pavilion.sim.scenario",
    "Scenario": "pavilion.sim.scenario",
    "Workload": "pavilion.sim.scenario",
    "load_scenario": "pavilion.sim.scenario",
    "sweep": "pavilion.sim.sweep",
    "scenario_to_toml": "pavilion.sim.toml_out",
}

if TYPE_CHECKING:
    from pavilion.sim.calibration import calibrate as calibrate
    from pavilion.sim.defaults import DEFAULT_SCENARIO_TOML
    from pavilion.sim.distributions import Distribution
    from pavilion.sim.eventlog import EVENT_KINDS, EVENT_LOG_COLUMNS, TIMELINE_COLUMNS
    from pavilion.sim.exact import ExactResult
    from pavilion.sim.exact import exact as exact
    from pavilion.sim.metrics import METRICS
    from pavilion.sim.replay import metrics_from_events
    from pavilion.sim.run import RunResult, simulate
    from pavilion.sim.scenario import (
        Arrivals,
        ExitMix,
        Payment,
        PolicySettings,
        RunSettings,
        Scenario,
        Workload,
        load_scenario,
    )
    from pavilion.sim.sweep import sweep as sweep
    from pavilion.sim.toml_out import scenario_to_toml


install(__name__, _EXPORTS)

__all__ = [
    "calibrate",
    "exact",
    "sweep",
    "DEFAULT_SCENARIO_TOML",
    "EVENT_KINDS",
    "EVENT_LOG_COLUMNS",
    "ExactResult",
    "METRICS",
    "TIMELINE_COLUMNS",
    "Arrivals",
    "Distribution",
    "ExitMix",
    "Payment",
    "PolicySettings",
    "RunResult",
    "RunSettings",
    "Scenario",
    "Workload",
    "load_scenario",
    "metrics_from_events",
    "scenario_to_toml",
    "simulate",
]
