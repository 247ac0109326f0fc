"""Serving the emulator: `serve(port)` for the command line, `running_emulator()` for tests (background thread)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from pavilion.emulators.mturk.app import make_app
from pavilion.emulators.mturk.emulator import Emulator

TICK_S = 1.0


@dataclass
class RunningEmulator:
    """A live emulator: its base URL and the Emulator object behind it (for assertions and control)."""

    url: str
    emulator: Emulator
    server: BaseWSGIServer


def _ticker(emulator: Emulator, stop: threading.Event, every_s: float) -> None:
    # Deadlines and expirations pass without any request; the ticker turns them into events.
    while not stop.wait(every_s):
        try:
            emulator.tick()
            emulator.dispatcher.flush()
        except Exception:  # keep ticking: one failed delivery must not stop time
            logging.getLogger(__name__).exception("emulator tick failed")


def serve(port: int, host: str = "127.0.0.1", emulator: Emulator | None = None, public_url: str | None = None,
          tick_s: float = TICK_S) -> None:
    """Serve the emulator until interrupted."""
    emulator = emulator or Emulator()
    server = make_server(host, port, make_app(emulator, public_url), threaded=True)
    stop = threading.Event()
    threading.Thread(target=_ticker, args=(emulator, stop, tick_s), daemon=True).start()
    try:
        server.serve_forever()
    finally:
        stop.set()
        server.server_close()


@contextmanager
def running_emulator(emulator: Emulator | None = None, tick_s: float | None = None,
                     **kwargs: Any) -> Iterator[RunningEmulator]:
    """Run an emulator on a free loopback port in a background thread; `tick_s=None` means no ticker."""
    emulator = emulator or Emulator(**kwargs)
    server = make_server("127.0.0.1", 0, make_app(emulator), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stop = threading.Event()
    if tick_s is not None:
        threading.Thread(target=_ticker, args=(emulator, stop, tick_s), daemon=True).start()
    try:
        yield RunningEmulator(f"http://127.0.0.1:{server.server_port}", emulator, server)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
