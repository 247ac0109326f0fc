"""Fixtures: the MTurk emulator on a loopback port, a real boto3 client against it, and moto's SQS server."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from pavilion.emulators.mturk.clock import ManualClock
from pavilion.emulators.mturk.emulator import Emulator
from pavilion.emulators.mturk.server import RunningEmulator, running_emulator


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials from the environment, as the standard chain reads them; nothing leaks from the host."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock, aws_env: None) -> Iterator[RunningEmulator]:
    with running_emulator(Emulator(clock)) as running:
        yield running


def mturk_client(url: str, total_attempts: int = 3) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("mturk", region_name="us-east-1", endpoint_url=url,
                        config=Config(retries={"mode": "standard", "total_max_attempts": total_attempts}))


@pytest.fixture
def make_client(aws_env: None) -> Any:
    return mturk_client


@pytest.fixture
def client(emu: RunningEmulator) -> Any:
    return mturk_client(emu.url)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
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
