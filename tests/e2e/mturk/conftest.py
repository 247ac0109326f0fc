"""Processes for the MTurk end-to-end tests: `pavilion emulate mturk`, `pavilion serve`, and moto's SQS."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    popen: subprocess.Popen[str]
    url: str
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def start(args: list[str], env: dict[str, str], url: str, log: Path, ready_path: str = "/") -> Process:
    """Run `pavilion ARGS` and wait until `url + ready_path` answers."""
    handle = log.open("a")
    popen = subprocess.Popen([sys.executable, "-m", "pavilion.cli", *args], env=env, stdout=handle,
                             stderr=subprocess.STDOUT, text=True)
    process = Process(popen, url, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise AssertionError(f"pavilion {args[0]} exited:\n{log.read_text()}")
        try:
            httpx.get(url + ready_path, timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.stop()
    raise AssertionError(f"pavilion {args[0]} did not start:\n{log.read_text()}")


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAVILION_", "AWS_"))}
    env.update(AWS_ACCESS_KEY_ID="e2e", AWS_SECRET_ACCESS_KEY="e2e", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    return env


@pytest.fixture
def moto_url() -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
