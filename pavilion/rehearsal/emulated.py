"""The live side on an emulated platform: `pavilion emulate mturk|prolific`, then `pavilion serve` pointed at it."""

from __future__ import annotations

import logging
import math
import secrets
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavilion.rehearsal.doors import MTurkDoor, ProlificDoor
from pavilion.rehearsal.scaling import Scaled
from pavilion.rehearsal.server import Process, base_env, free_port, serve

if TYPE_CHECKING:
    from pavilion.rehearsal.live import LiveSide

AWS = {"AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}


class Moto:
    """moto's SQS server in this process: MTurk's notifications travel through a real SQS API."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log would drown the report

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def queue(self, name: str) -> str:
        import boto3

        sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=self.url, aws_access_key_id="rehearsal",
                           aws_secret_access_key="rehearsal")
        return str(sqs.create_queue(QueueName=name)["QueueUrl"])

    def stop(self) -> None:
        self.server.stop()


class _Stoppable:
    """Something the live side shuts down at the end, as a Process is."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self.stop = stop


def _emulator(args: list[str], env: dict[str, str], workdir: Path, ready_path: str) -> Process:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return Process(["emulate", *args, "--port", str(port)], env, url, workdir / f"emulate-{args[0]}.log",
                   ready_path).start()


def start_mturk(scaled: Scaled, workdir: Path, database_url: str, faults: dict[str, float]) -> LiveSide:
    from pavilion.rehearsal.live import LiveSide

    moto = Moto()
    helpers: list[Any] = [_Stoppable(moto.stop)]
    try:
        queue_url = moto.queue(f"rehearsal-{secrets.token_hex(4)}")
        env = {**base_env(), **AWS}
        chaos = [arg for name, p in faults.items() for arg in (f"--{name}", f"{p:g}")]
        emulator = _emulator(["mturk", "--sqs-endpoint", moto.url, *chaos], env, workdir, "/")
        helpers.insert(0, emulator)
        extra = ["--mturk-endpoint", emulator.url, "--mturk-sqs-queue-url", queue_url,
                 "--mturk-sqs-endpoint", moto.url]
        server, token = serve(workdir, {**scaled.server_env(), **AWS}, "mturk", extra, database_url)
    except BaseException:
        for helper in helpers:
            helper.stop()
        raise
    limit = scaled.scenario.workload.assignment_duration_s
    platform = {"name": "mturk", "assignment_duration_s": int(limit), "auto_approval_delay_s": 0,
                "lifetime_s": 7 * 24 * 3600}
    return LiveSide(server.url, token, platform, lambda pid: MTurkDoor(emulator.url, pid), server, helpers)


def start_prolific(scaled: Scaled, workdir: Path, database_url: str) -> LiveSide:
    from pavilion.rehearsal.live import LiveSide

    api_token = secrets.token_hex(16)
    emulator = _emulator(["prolific", "--token", api_token], base_env(), workdir, "/_emulator/journal")
    try:
        settings = {**scaled.server_env(), "PAVILION_PROLIFIC_TOKEN": api_token}
        extra = ["--prolific-api-url", f"{emulator.url}/api/v1/"]
        server, token = serve(workdir, settings, "prolific", extra, database_url)
    except BaseException:
        emulator.stop()
        raise
    limit = scaled.scenario.workload.assignment_duration_s
    platform: dict[str, Any] = {"name": "prolific", "estimated_minutes": 1}
    if math.isfinite(limit):
        platform["maximum_minutes"] = int(limit // 60)
    return LiveSide(server.url, token, platform, lambda pid: ProlificDoor(emulator.url, api_token, pid), server,
                    [emulator])


def start_emulated(platform: str, scaled: Scaled, workdir: Path, database_url: str,
                   faults: dict[str, float]) -> LiveSide:
    if platform == "mturk":
        return start_mturk(scaled, workdir, database_url, faults)
    return start_prolific(scaled, workdir, database_url)
