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

from pavilion.sim.calibration.calibrate import Calibration, calibrate, observe, slot_rules
from pavilion.sim.calibration.observations import Observations, SlotRules, read_event_log

__all__ = ["Calibration", "Observations", "SlotRules", "calibrate", "observe", "read_event_log", "slot_rules"]
