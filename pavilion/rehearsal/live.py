"""The live side of a rehearsal: our own `pavilion serve` (and emulator) processes, or a server already running."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pavilion.errors import InputError
from pavilion.rehearsal.client import Door
from pavilion.rehearsal.doors import LocalDoor
from pavilion.rehearsal.scaling import Scaled
from pavilion.rehearsal.server import Process, serve


@dataclass
class LiveSide:
    """Where the server is, how to reach it, and what to shut down at the end."""

    url: str
    token: str
    platform: dict[str, Any]  # the project's `platform` object for the JSON API
    door_for: Callable[[int], Door]
    server: Process | None = None  # ours (restartable for chaos); None with --server
    helpers: list[Any] = field(default_factory=list)  # emulators and the like (each has stop())

    def close(self) -> None:
        for process in [self.server, *self.helpers]:
            if process is not None:
                process.stop()


def start_live(platform: str, scaled: Scaled, workdir: Path, database_url: str = "",
               server_url: str = "", token: str = "", chaos: dict[str, float] | None = None) -> LiveSide:
    """Start what the platform needs (or attach to `server_url`), ready for projects to be created."""
    if server_url:
        if platform != "local":
            raise InputError("--server works with --platform local only (the emulators are started by the rehearsal)")
        if not token:
            raise InputError("--server needs --token (an API token: `pavilion admin create-token USER`)")
        url = server_url.rstrip("/")
        return LiveSide(url, token, {"name": "local"}, lambda pid: LocalDoor(url, pid))
    if platform == "local":
        server, api_token = serve(workdir, scaled.server_env(), "local", database_url=database_url)
        return LiveSide(server.url, api_token, {"name": "local"}, lambda pid: LocalDoor(server.url, pid), server)
    from pavilion.rehearsal.emulated import start_emulated

    return start_emulated(platform, scaled, workdir, database_url, chaos or {})
