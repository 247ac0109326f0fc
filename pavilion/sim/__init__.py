"""SimPy simulator of the reference workload model, driven by the `pavilion.core` policies.

```python
from pavilion.sim import load_scenario, simulate
scenario = load_scenario(None, overrides={"policy.max_waiting": 2})   # None: the embedded default
simulate(scenario, seed=1).metrics["availability"]
metrics_from_events(simulate(scenario, seed=1, event_log=True).event_log, scenario)   # the same numbers
exact(markovian_scenario).metrics["availability"]   # exponential scenarios: the Markov chain's steady state
```
"""

from pavilion.sim.calibration import calibrate as calibrate  # fit a scenario from event logs (DESIGN 11)
from pavilion.sim.defaults import DEFAULT_SCENARIO_TOML
from pavilion.sim.distributions import Distribution
from pavilion.sim.eventlog import EVENT_KINDS, EVENT_LOG_COLUMNS, TIMELINE_COLUMNS
from pavilion.sim.exact import ExactResult
from pavilion.sim.exact import exact as exact  # `pavilion.sim.exact(scenario)` is the function
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
from pavilion.sim.sweep import sweep as sweep  # `pavilion.sim.sweep(...)` is the function
from pavilion.sim.toml_out import scenario_to_toml

__all__ = [
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
