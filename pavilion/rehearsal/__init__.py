"""Rehearsal: simulated workers drawn from a scenario drive a live server over HTTP and Socket.IO (DESIGN section 10).

```python
from pavilion.rehearsal import rehearse, RehearsalRequest
outcome = rehearse(RehearsalRequest(scenario=None, platform="local", time_scale=60, replications=1, seed=1,
                                    out=Path("rehearsal")))
outcome.exit_status   # 0: every compared metric within its interval; 1: some are not (named in the report)
```
Nothing here imports the runtime or the emulators: they run as `pavilion serve` / `pavilion emulate` processes.
"""

from typing import Any

__all__ = ["RehearsalOutcome", "RehearsalRequest", "rehearse"]


def __getattr__(name: str) -> Any:
    """Exports loaded on first use: `pavilion --help` registers the command without the clients and numpy."""
    if name in __all__:
        from pavilion.rehearsal import run

        return getattr(run, name)
    raise AttributeError(f"module 'pavilion.rehearsal' has no attribute {name!r}")
