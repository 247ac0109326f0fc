"""Real servers for the deployment tests: `pavilion serve` or gunicorn subprocesses, admins made by the CLI, workers
joining through the local join link over Socket.IO WebSockets (as a browser page does)."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

PYTHON = sys.executable
BIN = Path(sys.executable).parent
TOKEN_META = re.compile(r'<meta name="pavilion-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(args: Sequence[str], env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run([PYTHON, "-m", "pavilion.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, f"pavilion {' '.join(args)}: {done.stderr}"
    return done.stdout


@dataclass
class Server:
    """A server subprocess whose output goes to a file (read it with `output()`)."""

    cmd: list[str]
    env: dict[str, str]
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 45.0) -> Server:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited ({self.proc.returncode}):\n{self.output()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url + "/admin/login", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        raise AssertionError(f"server did not answer in {timeout_s} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers started by a test are stopped after it, whatever happened."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def admin_token(env: dict[str, str]) -> str:
    cli(["admin", "create-user", "deployer", "--password-stdin"], env, stdin="a long deploy password\n")
    return cli(["admin", "create-token", "deployer"], env).strip()


@dataclass
class Api:
    base: str
    token: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        reply = httpx.request(method, self.base + path, json=body, timeout=30,
                              headers={"Authorization": f"Bearer {self.token}"})
        assert reply.status_code < 400, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json()

    def project(self, min_active: int, max_active: int, max_waiting: int, min_waiting: int = 0) -> int:
        body = {"name": "deploy test",
                "policy": {"name": "pavilion", "min_active": min_active, "max_active": max_active,
                           "min_waiting": min_waiting, "max_waiting": max_waiting},
                "platform": {"name": "local"},
                "pay": {"reward": "0.10", "waiting_wage_per_hour": "6", "active_wage_per_hour": "9"},
                "task": {"title": "deploy test", "url": "https://task.invalid/live"}}
        project_id = int(self.call("POST", "/api/projects", body)["id"])
        self.call("POST", f"/api/projects/{project_id}/launch")
        return project_id


def join_token(base: str, project_id: int) -> str:
    with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as http:
        page = http.get(f"/join/{project_id}")
    match = TOKEN_META.search(page.text)
    assert page.status_code == 200 and match is not None, f"join: {page.status_code} {page.text[:300]}"
    return match.group(1)


@dataclass
class Worker:
    """One worker's page: a python-socketio client on /worker recording what it was told."""

    token: str
    events: list[tuple[str, Any]] = field(default_factory=list)
    client: Any = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    def connect(self, base: str) -> Worker:
        import socketio

        self.client = socketio.Client(reconnection=False, request_timeout=30)
        for name in ("queue", "promoted", "stop", "rejected", "left", "error"):
            self.client.on(name, self._recorder(name), namespace="/worker")
        self.client.connect(base, namespaces=["/worker"], auth={"token": self.token}, transports=["websocket"],
                            wait_timeout=30)
        return self

    def _recorder(self, name: str) -> Any:
        def record(payload: Any = None) -> None:
            with self.changed:
                self.events.append((name, payload))
                self.changed.notify_all()

        return record

    def told(self, name: str) -> int:
        return sum(1 for event, _ in self.events if event == name)

    def wait_for(self, name: str, count: int = 1, timeout_s: float = 20.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.told(name) >= count, timeout_s)

    def emit(self, event: str, payload: Any = None) -> None:
        self.client.emit(event, payload, namespace="/worker")

    def close(self) -> None:
        if self.client is not None and self.client.connected:
            self.client.disconnect()
