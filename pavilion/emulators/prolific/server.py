"""Running the emulator: `serve(port)` in the foreground, or `running_emulator()` in a thread for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pavilion.emulators.prolific.app import build_app
from pavilion.emulators.prolific.emulator import ProlificEmulator


@dataclass(frozen=True)
class RunningEmulator:
    """An emulator serving on loopback: `api_url` is what the adapter takes as its base URL."""

    emulator: ProlificEmulator
    url: str

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v1/"


class QuietHandler(WSGIRequestHandler):
    """No access log: the emulator keeps its own journal, and test output stays readable."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _server(emulator: ProlificEmulator, host: str, port: int, quiet: bool = False) -> BaseWSGIServer:
    handler = QuietHandler if quiet else None
    return make_server(host, port, build_app(emulator), threaded=True, request_handler=handler)


def serve(port: int, emulator: ProlificEmulator, host: str = "127.0.0.1") -> None:
    """Serve until interrupted, delivering webhooks in the background."""
    server = _server(emulator, host, port)
    emulator.deliverer.start()
    try:
        server.serve_forever()
    finally:
        emulator.deliverer.stop()
        server.server_close()


@contextmanager
def running_emulator(emulator: ProlificEmulator, deliver: bool = True) -> Iterator[RunningEmulator]:
    """Serve `emulator` on a free loopback port in a background thread for the duration of the block."""
    server = _server(emulator, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="prolific-emulator", daemon=True)
    thread.start()
    if deliver:
        emulator.deliverer.start()
    try:
        yield RunningEmulator(emulator, f"http://127.0.0.1:{server.server_port}")
    finally:
        if deliver:
            emulator.deliverer.stop()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
