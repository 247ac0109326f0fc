"""`pavilion emulate prolific`: the command starts a working emulator; bad input is one clear line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from pavilion.cli import main

pytestmark = pytest.mark.timeout(60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_bad_port_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "prolific", "--port", "70000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pavilion: error: --port") and "\n" not in err


def test_the_command_serves_the_api_and_the_manual_clock() -> None:
    port = free_port()
    command = [sys.executable, "-m", "pavilion.cli", "emulate", "prolific", "--port", str(port), "--manual-clock"]
    env = {**os.environ, "PAVILION_PROLIFIC_EMULATOR_TOKEN": "cli-token"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/api/v1/" in banner and "cli-token" in banner
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": "Token cli-token"})
        for _ in range(100):  # the banner comes just before the socket listens
            try:
                response = api.get("/api/v1/workspaces/")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert response.status_code == 200 and response.json()["results"]
        assert api.post("/_emulator/clock/advance", json={"seconds": 5}).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/studies/").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
