"""The live side as processes: `pavilion serve` (and `pavilion emulate ...`) on free ports, started, killed, stopped."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pavilion.errors import InputError

START_TIMEOUT_S = 60.0
ADMIN = "rehearsal"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env() -> dict[str, str]:
    """The caller's environment without its PAVILION_* settings (the rehearsal sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PAVILION_")}


def pavilion(args: Sequence[str], env: Mapping[str, str], stdin: str = "") -> str:
    """Run a `pavilion` command to completion; its standard output, or an InputError with its last line."""
    done = subprocess.run([sys.executable, "-m", "pavilion.cli", *args], env=dict(env), input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise InputError(f"`pavilion {' '.join(args[:3])}` failed: {last}")
    return done.stdout


@dataclass
class Process:
    """A `pavilion` subprocess that answers HTTP on `url` (restartable: the same command, port and log)."""

    args: list[str]
    env: dict[str, str]
    url: str
    log: Path
    ready_path: str = "/"
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> Process:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen([sys.executable, "-m", "pavilion.cli", *self.args], env=self.env,
                                      stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
                raise InputError(f"`pavilion {self.args[0]}` exited at start: {tail[0]}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(self.url + self.ready_path, timeout=1)
                return self
            time.sleep(0.05)
        self.stop()
        raise InputError(f"`pavilion {self.args[0]}` did not answer on {self.url} within {START_TIMEOUT_S:g} s")

    def kill(self) -> None:
        """kill -9: no shutdown code runs, as when a machine or a process dies."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)


def serve(workdir: Path, settings: Mapping[str, str], platform: str, extra_args: Sequence[str] = (),
          database_url: str = "") -> tuple[Process, str]:
    """`pavilion serve` with a fresh instance folder (SQLite unless `database_url`), an admin and an API token."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    instance = workdir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    env = base_env()
    env.update(settings)
    env.update(PAVILION_INSTANCE_PATH=str(instance), PAVILION_SECRET_KEY=secrets.token_hex(32),
               PAVILION_PUBLIC_URL=url, PAVILION_ENV="development")
    if database_url:
        env["PAVILION_DATABASE_URL"] = database_url
    pavilion(["db", "upgrade"], env)
    pavilion(["admin", "create-user", ADMIN, "--password-stdin"], env, stdin=secrets.token_urlsafe(18) + "\n")
    token = pavilion(["admin", "create-token", ADMIN], env).strip()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--platform", platform, *extra_args]
    return Process(args, env, url, workdir / "serve.log").start(), token
