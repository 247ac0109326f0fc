"""One worker's 20,000-event burst against the others' heartbeat round trips (issue 17 item 4).

Usage: python benchmarks/flood.py [--workers 6] [--events 20000] [--rounds 3] [--seconds 5]

Everything runs on 127.0.0.1: `pavilion serve` (gevent, one process, as deployed) in a subprocess with a fresh
instance folder, a project made through the JSON API, and `--workers` python-socketio clients joined through the
local join link, each asking for a heartbeat round trip (`call("heartbeat")`) every 0.5 s, within the per-socket
limit. A round alternates a quiet phase (the floor: the same clients on the same server, nobody flooding) with a
flood phase: a fresh worker's raw websocket, in a process of its own, sends `--events` heartbeat frames as fast as
it can while the others keep measuring, for `--seconds` in each phase. Printed: p50 and p99 of the others' round
trips in both phases, their ratio, how many of the others the server disconnected, and what became of the flooder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np

PYTHON = sys.executable
PROBE_EVERY_S = 0.5  # each probe client's heartbeat period: within the default limit of 2 events a second
NS = "/worker"
TOKEN_META = re.compile(r'<meta name="pavilion-token" content="([^"]+)"')


# ---- the server (as `pavilion serve` runs it) ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pavilion(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run([PYTHON, "-m", "pavilion.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`pavilion {' '.join(args)}` failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class Server:
    url: str
    token: str

    def project(self, max_waiting: int) -> int:
        """A launched local project (2 active places) made through the JSON API."""
        body = {
            "name": "flood benchmark",
            "policy": {"name": "pavilion", "min_active": 2, "max_active": 2, "min_waiting": 0,
                       "max_waiting": max_waiting},
            "platform": {"name": "local"},
            "pay": {"reward": "0.10", "waiting_wage_per_hour": "6", "active_wage_per_hour": "9"},
            "task": {"title": "benchmark", "url": "https://task.invalid/live"},
        }
        headers = {"Authorization": f"Bearer {self.token}"}
        project_id = int(httpx.post(self.url + "/api/projects", json=body, headers=headers, timeout=30).json()["id"])
        httpx.post(f"{self.url}/api/projects/{project_id}/launch", headers=headers, timeout=30).raise_for_status()
        return project_id

    def join(self, project_id: int) -> dict[str, str]:
        """One more worker through the local join link; the page's token as Socket.IO auth."""
        with httpx.Client(base_url=self.url, follow_redirects=True, timeout=30) as http:
            page = http.get(f"/join/{project_id}")
        match = TOKEN_META.search(page.text)
        if page.status_code != 200 or match is None:
            raise RuntimeError(f"join failed: {page.status_code} {page.text[:200]!r}")
        return {"token": match.group(1)}


@contextlib.contextmanager
def serving() -> Iterator[Server]:
    """`pavilion serve` on a free port with a fresh instance folder, an admin and an API token made by the CLI."""
    with tempfile.TemporaryDirectory(prefix="pavilion-flood-") as instance:
        env = {**os.environ, "PAVILION_INSTANCE_PATH": instance, "PAVILION_ENV": "development"}
        pavilion(["admin", "create-user", "bench", "--password-stdin"], env, stdin="bench-password-not-secret\n")
        token = pavilion(["admin", "create-token", "bench"], env).strip()
        port = free_port()
        cmd = [PYTHON, "-m", "pavilion.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
                time.sleep(0.1)
            yield Server(f"http://127.0.0.1:{port}", token)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ms = np.asarray(samples) * 1000.0
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


class Probe:
    """One connected worker asking for heartbeat round trips in a thread; samples are tagged with a phase."""

    def __init__(self, url: str, auth: dict[str, str]) -> None:
        import socketio

        self.client = socketio.Client(reconnection=False, request_timeout=30)
        self.client.connect(url, namespaces=[NS], auth=auth, transports=["websocket"], wait_timeout=30)
        self.samples: list[tuple[str, float]] = []
        self.failures: list[str] = []
        self.phase = "warmup"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            phase, start = self.phase, time.perf_counter()
            try:
                reply = self.client.call("heartbeat", namespace=NS, timeout=30)
            except Exception as exc:  # noqa: BLE001 - counted and printed
                self.failures.append(f"{type(exc).__name__}: {exc}")
                return
            if reply == {"ok": True}:
                self.samples.append((phase, time.perf_counter() - start))
            else:
                self.failures.append(f"heartbeat answered {reply!r}")
            self._stop.wait(PROBE_EVERY_S)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=35)
        if self.client.connected:
            self.client.disconnect()


def flood(url: str, token: str, events: int) -> tuple[int, float, bool]:
    """A raw websocket joins /worker and sends `events` heartbeat frames at once: (frames sent, seconds, closed by
    the server within 10 s of the last frame)."""
    import websocket

    ws = websocket.create_connection(url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
                                     timeout=10)
    ws.recv()  # Engine.IO open
    ws.send("40/worker," + json.dumps({"token": token}))
    ws.recv()  # connected (and its first `queue` message follows)
    print("ready", flush=True)
    sys.stdin.readline()  # go: the flood phase has begun
    start = time.perf_counter()
    sent = 0
    try:
        while sent < events:
            ws.send('42/worker,["heartbeat"]')
            sent += 1
    except (OSError, websocket.WebSocketException):
        pass
    seconds = time.perf_counter() - start
    closed = False
    try:
        while True:
            frame = ws.recv()
            if frame in ("", "1"):
                closed = True
                break
    except websocket.WebSocketTimeoutException:
        closed = False
    except (OSError, websocket.WebSocketException):
        closed = True
    ws.close()
    return sent, seconds, closed


class Flooder:
    """`flood` in a process of its own (so its sending loop never holds the probes' interpreter lock), started and
    connected ahead of its phase; `go()` lets it loose and returns its result."""

    def __init__(self, url: str, token: str, events: int) -> None:
        cmd = [PYTHON, __file__, "--flood-url", url, "--flood-token", token, "--events", str(events)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdin is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the flooder could not connect")

    def go(self) -> tuple[int, float, bool]:
        out, _ = self.proc.communicate("go\n", timeout=300)
        sent, seconds, closed = json.loads(out.strip().splitlines()[-1])
        return int(sent), float(seconds), bool(closed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each quiet and each flood phase")
    parser.add_argument("--flood-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--flood-token", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood_url:
        print(json.dumps(flood(args.flood_url, args.flood_token, args.events)))
        return
    if args.workers < 1 or args.events < 1 or args.rounds < 1 or args.seconds <= 0:
        parser.error("--workers, --events, --rounds must be at least 1 and --seconds positive")
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    with serving() as server:
        project_id = server.project(max_waiting=args.workers + args.rounds + 2)
        probes = [Probe(server.url, server.join(project_id)) for _ in range(args.workers)]
        floods: list[tuple[int, float, bool]] = []
        try:
            time.sleep(1.0)
            for _ in range(args.rounds):
                flooder = Flooder(server.url, server.join(project_id)["token"], args.events)  # joins, not timed
                time.sleep(1.0)
                for probe in probes:
                    probe.phase = "floor"
                time.sleep(args.seconds)
                for probe in probes:
                    probe.phase = "flood"
                started = time.monotonic()
                floods.append(flooder.go())
                time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
                for probe in probes:
                    probe.phase = "between"
        finally:
            for probe in probes:
                probe.close()
        others_disconnected = sum(1 for p in probes if p.failures)
    samples: dict[str, list[float]] = {"floor": [], "flood": []}
    for probe in probes:
        for phase, seconds in probe.samples:
            samples.setdefault(phase, []).append(seconds)
    f50, f99 = percentiles(samples["floor"])
    r50, r99 = percentiles(samples["flood"])
    sent = [s for s, _, _ in floods]
    closed = sum(1 for _, _, c in floods if c)
    rate = np.mean([s / max(t, 1e-9) for s, t, _ in floods])
    print(f"flood: floor (nobody flooding), {args.workers} workers' heartbeat round trip: p50 {f50:.1f} ms, "
          f"p99 {f99:.1f} ms ({len(samples['floor'])} round trips)")
    print(f"flood: during a {args.events}-event burst from one more worker: p50 {r50:.1f} ms, p99 {r99:.1f} ms "
          f"({len(samples['flood'])} round trips, {args.rounds} bursts); p99 ratio to the floor {r99 / f99:.1f}x; "
          f"target p99 < 100 ms: {'met' if r99 < 100 else 'NOT met'}")
    print(f"flood: others disconnected {others_disconnected} of {args.workers}; flooder connections closed by the "
          f"server {closed} of {args.rounds}; frames it got out {min(sent)}-{max(sent)} at {rate:,.0f}/s")
    if others_disconnected:
        print(f"flood: first failure: {next(p.failures[0] for p in probes if p.failures)}")


if __name__ == "__main__":
    main()
