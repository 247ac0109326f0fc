"""Calibration: fit the workload model of a scenario from event logs (DESIGN.md section 11).

```python
from pavilion.sim.calibration import calibrate
from pavilion.sim.calibration.writer import write_scenario
result = calibrate(["pilot/events.csv"], base=load_scenario("study.toml"))
result.scenario                                  # the calibrated Scenario
write_scenario(result, "calibrated.toml")        # its TOML, the evidence in header comments
```
lifelines is imported only when a fit runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pavilion.sim.lazy_exports import install

# Imported on first use: `pavilion calibrate`'s registration imports this package and must not pay for pandas.
_EXPORTS: dict[str, str] = {
    "Calibration": "pavilion.sim.calibration.calibrate",
    "calibrate": "pavilion.sim.calibration.calibrate",
    "observe": "pavilion.sim.calibration.calibrate",
    "slot_rules": "pavilion.sim.calibration.calibrate",
    "Observations": "pavilion.sim.calibration.observations",
    "SlotRules": "pavilion.sim.calibration.observations",
    "read_event_log": "pavilion.sim.calibration.observations",
}

if TYPE_CHECKING:
    from pavilion.sim.calibration.calibrate import Calibration, calibrate, observe, slot_rules
    from pavilion.sim.calibration.observations import Observations, SlotRules, read_event_log

install(__name__, _EXPORTS)

__all__ = ["Calibration", "Observations", "SlotRules", "calibrate", "observe", "read_event_log", "slot_rules"]
