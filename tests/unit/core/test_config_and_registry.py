"""QueueConfig validation, the policy registry, and the purity of pavilion.core."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pavilion.core import POLICIES, QueueConfig, get_policy


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"min_active": 0, "max_active": 3}, "min_active"),
        ({"min_active": 3, "max_active": 2}, "max_active"),
        ({"min_active": 1, "max_active": 2, "min_waiting": -1}, "min_waiting"),
        ({"min_active": 1, "max_active": 2, "min_waiting": 2, "max_waiting": 1}, "max_waiting"),
        ({"min_active": 1.5, "max_active": 2}, "min_active"),
        ({"min_active": 1, "max_active": True}, "max_active"),
        ({"min_active": 1, "max_active": "3"}, "max_active"),
    ],
)
def test_bad_queue_sizes_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        QueueConfig(**kwargs)  # type: ignore[arg-type]


def test_registry_knows_both_policies_and_names_the_known_ones() -> None:
    assert {"pavilion", "on-demand"} <= set(POLICIES)
    assert get_policy("pavilion").name == "pavilion"
    with pytest.raises(ValueError, match="known policies: on-demand, pavilion"):
        get_policy("fifo")


def test_importing_the_core_loads_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules); import pavilion.core; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(sorted(new - set(sys.stdlib_module_names) - {'pavilion'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_the_core_never_imports_the_shells() -> None:
    code = (
        "import sys, pavilion.core; "
        "print(sorted(m for m in sys.modules if m.startswith(('pavilion.sim', 'pavilion.runtime'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
