"""Write a scenario back as TOML in the layout of DESIGN.md section 4 (no third-party writer needed)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pavilion.sim.scenario import Scenario


def toml_value(value: Any) -> str:
    """One TOML value: string, boolean, integer, float (inf included) or inline table of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError("NaN has no place in a scenario")
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def scenario_to_toml(scenario: Scenario) -> str:
    """The scenario's complete table as TOML text that `load_scenario` reads back to an equal scenario."""
    data = scenario.data
    lines = [f"name = {toml_value(data['name'])}"]
    for table in ("policy", "workload", "payment", "run"):
        lines.append(f"[{table}]")
        lines += [f"{_key(k)} = {toml_value(v)}" for k, v in data[table].items()]
    return "\n".join(lines) + "\n"
