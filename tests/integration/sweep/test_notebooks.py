"""Every notebook runs top to bottom (nbclient, the venv's python3 kernel) with a short horizon."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the notebooks read these; the kernel inherits this process's environment
    monkeypatch.setenv("PAVILION_NOTEBOOK_HORIZON_S", "14400")
    monkeypatch.setenv("PAVILION_NOTEBOOK_REPLICATIONS", "20")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, kernel_name="python3", timeout=240,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []


def test_there_are_notebooks() -> None:
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == ["01_tuning_queue_sizes.ipynb", "02_validating_against_theory.ipynb",
                     "03_paired_comparisons.ipynb", "04_calibrating_from_a_pilot.ipynb"]
