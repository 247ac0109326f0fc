"""The README's examples are doctests: what it shows is what the code does."""

from __future__ import annotations

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_examples_run() -> None:
    result = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
