"""Scenario presets from published recruitment latencies: `pavilion simulate --preset NAME` loads NAME.toml here."""

from __future__ import annotations

from pathlib import Path

from pavilion.errors import InputError

FOLDER = Path(__file__).resolve().parent


def preset_names() -> list[str]:
    """The shipped presets, sorted."""
    return sorted(p.stem for p in FOLDER.glob("*.toml"))


def preset_path(name: str) -> Path:
    """The TOML file of a preset; an unknown name is an InputError listing the known ones."""
    if name not in preset_names():
        raise InputError(f"--preset {name!r}: unknown preset (known: {', '.join(preset_names())})")
    return FOLDER / f"{name}.toml"
