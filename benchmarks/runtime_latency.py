"""Leave -> `promoted` latency of the live runtime under N connected workers, next to a bare Socket.IO echo floor.

Usage: python benchmarks/runtime_latency.py [--workers 300] [--churns 200] [--hold 1000] [--hold-timeout 300]
       [--async-mode gevent|eventlet] [--processes 1|2] [--admin-probe 200]

Everything runs on 127.0.0.1. The runtime is started as `pavilion serve` starts it (eventlet, one process) in a
subprocess with a temporary instance folder; an admin and an API token are made with `pavilion admin`, the
project is created and launched through the JSON API, and N python-socketio clients join as workers through
the local platform's join link (each connects right after its page loads, as a browser does).
One churn: the oldest active worker's client sends `leave` {"how": "submitted"}; we time until some client
receives `promoted` (the policy seats the oldest waiting worker); a fresh worker then joins (not timed) so N stay
connected, and we wait for the server to go quiet: no `queue` message for longer than the server's coalescing
interval (QUEUE_REFRESH_S), so the positions fan-out of the last churn has been sent.
The floor is a bare Flask-SocketIO echo server on the same stack (eventlet, subprocess) holding its own N
clients: one client emits, the server emits it back, we time the round trip. Floor and runtime rounds
alternate, so both see the same machine load.
The last phase joins `--hold` workers to a fresh server process, bounded by `--hold-timeout` seconds, and reports
how many are connected, how many the server counts present, and the server's resident memory; with
`--admin-probe N` it then times N requests each of `GET /admin/login` and `GET /api/projects/<id>` while those
workers stay connected, next to the same requests on the idle server (issue 17: past 1,024 connections the admin
used to time out).
`--async-mode` picks the server stack of both the runtime and the echo floor (gevent, the default, or eventlet).
`--processes 2` runs two `pavilion serve` processes on one PostgreSQL schema (PAVILION_TEST_DATABASE_URL or
`--database-url`) and a private Redis (PAVILION_MESSAGE_QUEUE), behind nginx from deploy/nginx.conf (see
benchmarks/scaleout.py); workers join and connect through nginx, each from its own client address.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scaleout
from crowd import Crowd

PYTHON = sys.executable
TOKEN_META = re.compile(r'<meta name="pavilion-token" content="([^"]+)"')
ACTIVE_PLACES = 10  # max_active of the benchmark's project; the other workers wait
CONNECT_THREADS = 16  # clients connect this many at a time (each connect is a handshake round trip)
QUEUE_REFRESH_S = 0.5  # the server's coalescing interval for `queue` messages (its default)
QUIET_S = QUEUE_REFRESH_S + 0.1  # no `queue` message for this long: the last event's fan-out has been sent
MAX_QUEUE = 1000  # the API's bound on max_waiting per project: larger crowds are spread over several projects


@dataclass
class Setup:
    """What the servers run on: the async stack, how many processes, and the PostgreSQL for several."""

    mode: str = "gevent"
    processes: int = 1
    database_url: str = ""


SETUP = Setup()


# ---- processes ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """Block until something accepts on 127.0.0.1:port; fail early if the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {timeout_s:.0f} s")


@contextlib.contextmanager
def running(cmd: Sequence[str], port: int, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A server subprocess, stopped (terminate, then kill) on exit."""
    # The server's log goes to a file (an undrained pipe would stall the server once full); its tail is shown
    # when the benchmark fails.
    log = tempfile.NamedTemporaryFile(prefix="pavilion-bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_listening(port, proc, timeout_s=120)
        yield proc
    except BaseException:
        tail = Path(log.name).read_text(errors="replace").splitlines()[-15:]
        print(f"runtime_latency: server log {log.name} ends:\n" + "\n".join(tail), file=sys.stderr)
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pavilion(args: Sequence[str], env: dict[str, str], stdin: str = "") -> str:
    """Run the `pavilion` command line; its standard output."""
    cmd = [PYTHON, "-m", "pavilion.cli", *args]
    done = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`pavilion {' '.join(args)}` failed: {done.stderr.strip()}")
    return done.stdout


# ---- the echo floor -----------------------------------------------------------------------------------------
def echo_server(port: int, mode: str) -> None:
    """A bare Flask-SocketIO server on `mode` (gevent or eventlet): `echo` comes straight back to its sender."""
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        import eventlet

        eventlet.monkey_patch()
    from flask import Flask, request
    from flask_socketio import SocketIO, emit

    app = Flask("echo")
    socketio = SocketIO(app, async_mode=mode)

    @socketio.on("echo", namespace="/echo")
    def _echo(payload: Any) -> None:
        emit("echo", payload, to=request.sid)

    socketio.run(app, host="127.0.0.1", port=port, log_output=False)


# ---- clients ------------------------------------------------------------------------------------------------
@dataclass
class Clients:
    """Connected python-socketio clients and what they have been told."""

    namespace: str
    clients: list[Any] = field(default_factory=list)
    promoted: list[tuple[float, int]] = field(default_factory=list)  # (perf_counter, client index)
    got: threading.Event = field(default_factory=threading.Event)
    messages: int = 0  # `queue` messages received by all clients
    dropped: int = 0  # clients the server disconnected
    failed: list[str] = field(default_factory=list)  # why joins or connects failed
    threads: int = CONNECT_THREADS
    seated: set[int] = field(default_factory=set)  # clients told `promoted` at least once

    def connect(self, url: str, count: int, auth: Callable[[int], dict[str, str] | None]) -> list[int]:
        """Connect `count` clients (several at a time), each with a fresh `auth()`; the indexes of the new clients.

        A worker's page connects right after it loads: the server counts a joined worker without a socket as
        gone after the abandon grace, so each client joins and connects in one go."""
        first = len(self.clients)
        self.clients.extend([None] * count)
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(lambda index: self._join(url, index, auth), range(first, first + count)))
        return [i for i in range(first, len(self.clients)) if self.clients[i] is not None]

    def _join(self, url: str, index: int, auth: Callable[[int], dict[str, str] | None]) -> None:
        try:
            self._one(url, index, auth(index))
        except Exception as error:  # noqa: BLE001 - recorded; the caller decides whether it is fatal
            self.failed.append(f"{type(error).__name__}: {error}")

    def _one(self, url: str, index: int, auth: dict[str, str] | None) -> None:
        import socketio

        client = socketio.Client(reconnection=False, request_timeout=60)
        client.on("disconnect", lambda *_: self._drop(), namespace=self.namespace)
        client.on("promoted", lambda *_: self._first_promotion(index), namespace=self.namespace)
        client.on("queue", lambda *_: self._count(), namespace=self.namespace)
        client.on("echo", lambda *_: self._mark(index), namespace=self.namespace)
        headers = {"X-Forwarded-For": scaleout.client_address(index)}  # spread by nginx's ip_hash; else unused
        client.connect(url, namespaces=[self.namespace], auth=auth, transports=["websocket"], wait_timeout=30,
                       headers=headers)
        self.clients[index] = client

    def _drop(self) -> None:
        self.dropped += 1

    def _count(self) -> None:
        self.messages += 1  # a lost increment under a thread switch only shortens a settle wait

    def settle(self, idle_s: float = 0.1, max_s: float = 5.0) -> None:
        """Wait until no `queue` message has arrived for idle_s: the server has finished the last event's fan-out."""
        deadline = time.monotonic() + max_s
        seen = -1
        while seen != self.messages and time.monotonic() < deadline:
            seen = self.messages
            time.sleep(idle_s)

    def _first_promotion(self, index: int) -> None:
        """A page may be told `promoted` again (on a reconnect, say): only the first telling is the promotion."""
        if index not in self.seated:
            self.seated.add(index)
            self._mark(index)

    def _mark(self, index: int) -> None:
        self.promoted.append((time.perf_counter(), index))
        self.got.set()

    def timed(self, index: int, event: str, payload: Any, timeout_s: float = 10.0) -> tuple[float, int]:
        """Emit from one client; (seconds until the next mark, the marked client)."""
        self.got.clear()
        mark = len(self.promoted)
        start = time.perf_counter()
        self.clients[index].emit(event, payload, namespace=self.namespace)
        if not self.got.wait(timeout_s):
            raise RuntimeError(f"no reply to {event!r} within {timeout_s} s")
        when, who = self.promoted[mark]
        return when - start, who

    def connected(self) -> int:
        return sum(1 for c in self.clients if c is not None and c.connected)

    def close(self) -> None:
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(lambda c: c.disconnect() if c is not None and c.connected else None, self.clients))


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ms = np.asarray(samples) * 1000.0
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


@contextlib.contextmanager
def echo_clients(n: int) -> Iterator[Clients]:
    """The bare echo server in a subprocess, with n clients connected to it."""
    port = free_port()
    with running([PYTHON, __file__, "--echo-server", str(port), "--async-mode", SETUP.mode], port):
        clients = Clients("/echo")
        try:
            clients.connect(f"http://127.0.0.1:{port}", n, lambda _: None)
            if clients.failed:
                raise RuntimeError(f"{len(clients.failed)} echo clients could not connect: {clients.failed[0]}")
            yield clients
        finally:
            clients.close()


# ---- the runtime --------------------------------------------------------------------------------------------
@dataclass
class Runtime:
    """A `pavilion serve` subprocess with an admin token; projects are made through the JSON API."""

    url: str
    token: str
    procs: list[subprocess.Popen[bytes]]

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"}
        response = httpx.request(method, self.url + path, json=body, headers=headers, timeout=30)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text.strip()}")
        reply: dict[str, Any] = response.json()
        return reply

    def project(self, max_active: int, max_waiting: int) -> int:
        """A launched project on the local platform; the job starts as soon as max_active workers wait."""
        body = {
            "name": "latency benchmark",
            "policy": {"name": "pavilion", "min_active": max_active, "max_active": max_active,
                       "min_waiting": 0, "max_waiting": max_waiting},
            "platform": {"name": "local"},
            "pay": {"reward": "0.10", "waiting_wage_per_hour": "6", "active_wage_per_hour": "9"},
            "task": {"title": "benchmark", "url": "https://task.invalid/live"},
        }
        project_id = int(self.api("POST", "/api/projects", body)["id"])
        self.api("POST", f"/api/projects/{project_id}/launch")
        return project_id

    def joiner(self, project_ids: int | list[int]) -> Callable[[int], dict[str, str]]:
        """Joins one worker (client `index`) through the local join link per call, round the projects; the page's
        worker token as Socket.IO auth."""
        import httpx

        ids = project_ids if isinstance(project_ids, list) else [project_ids]

        def join(index: int) -> dict[str, str]:
            headers = {"X-Forwarded-For": scaleout.client_address(index)}
            with httpx.Client(base_url=self.url, follow_redirects=True, timeout=30, headers=headers) as http:
                page = http.get(f"/join/{ids[index % len(ids)]}")
            match = TOKEN_META.search(page.text)
            if page.status_code != 200 or match is None:
                raise RuntimeError(f"join failed: {page.status_code} {page.text[:200]!r}")
            return {"token": match.group(1)}

        return join


@contextlib.contextmanager
def runtime_server(max_connected: int = 2000) -> Iterator[Runtime]:
    """`pavilion serve` (SETUP.processes of them, behind nginx when several) on free ports with a fresh instance
    folder, an admin and a token made by the CLI."""
    with contextlib.ExitStack() as stack:
        instance = stack.enter_context(tempfile.TemporaryDirectory(prefix="pavilion-bench-"))
        env = {**os.environ, "PAVILION_INSTANCE_PATH": instance, "PAVILION_ENV": "development",
               "PAVILION_QUEUE_REFRESH_S": str(QUEUE_REFRESH_S), "PAVILION_ASYNC_MODE": SETUP.mode,
               "PAVILION_MAX_WORKERS_CONNECTED": str(max_connected)}
        if SETUP.processes > 1:
            if not SETUP.database_url:
                raise RuntimeError("--processes 2 needs PostgreSQL: set PAVILION_TEST_DATABASE_URL or --database-url")
            env["PAVILION_DATABASE_URL"] = stack.enter_context(scaleout.postgres_schema(SETUP.database_url))
            env["PAVILION_MESSAGE_QUEUE"] = stack.enter_context(scaleout.redis(Path(instance)))
            env["PAVILION_SECRET_KEY"] = "benchmark-secret-shared-by-the-processes"
            pavilion(["db", "upgrade"], env)
        pavilion(["admin", "create-user", "bench", "--password-stdin"], env, stdin="bench-password-not-secret\n")
        token = pavilion(["admin", "create-token", "bench"], env).strip()
        ports = [free_port() for _ in range(SETUP.processes)]
        procs = [stack.enter_context(running(
            [PYTHON, "-m", "pavilion.cli", "serve", "--host", "127.0.0.1", "--port", str(port)], port, env))
            for port in ports]
        front = stack.enter_context(scaleout.nginx(Path(instance), ports)) if SETUP.processes > 1 else ports[0]
        yield Runtime(f"http://127.0.0.1:{front}", token, procs)


def measure(n: int, churns: int, warmup: int = 5, max_active: int = ACTIVE_PLACES) -> tuple[list[float], list[float]]:
    """(floor round trips, leave -> promoted latencies), alternating, with n clients on each server."""
    with echo_clients(n) as echo, runtime_server() as server:
        project_id = server.project(max_active, max_waiting=min(1000, n + churns + warmup))
        workers = Clients("/worker")
        try:
            workers.connect(server.url, n, server.joiner(project_id))
            if workers.failed:
                raise RuntimeError(f"{len(workers.failed)} workers could not join: {workers.failed[0]}")
            deadline = time.monotonic() + 30
            while len(workers.promoted) < max_active and time.monotonic() < deadline:
                time.sleep(0.05)  # the first max_active joiners start together
            active = [index for _, index in workers.promoted]
            if len(active) < max_active:
                raise RuntimeError(f"only {len(active)} of {max_active} workers were promoted at the start")
            workers.settle(QUIET_S)
            floor: list[float] = []
            latency: list[float] = []
            for i in range(warmup + churns):
                trip, _ = echo.timed(i % n, "echo", {"i": i})
                leaving = active.pop(0)
                seconds, promoted = workers.timed(leaving, "leave", {"how": "submitted"})
                if i >= warmup:
                    floor.append(trip)
                    latency.append(seconds)
                active.append(promoted)
                workers.clients[promoted].emit("ready", namespace="/worker")
                workers.clients[leaving].disconnect()
                if not workers.connect(server.url, 1, server.joiner(project_id)):  # keep n connected (not timed)
                    raise RuntimeError(f"a replacement worker could not join: {workers.failed[-1]}")
                workers.settle(QUIET_S)  # each churn starts on a quiet server, as each echo does
            return floor, latency
        finally:
            workers.close()


def admin_probe(server: Runtime, project_id: int, count: int) -> list[float]:
    """Seconds for each of `count` GET /admin/login and `count` GET /api/projects/<id>, one after another."""
    import httpx

    seconds: list[float] = []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for _ in range(count):
            for path, headers in (("/admin/login", {}), (f"/api/projects/{project_id}",
                                                         {"Authorization": f"Bearer {server.token}"})):
                start = time.perf_counter()
                reply = http.get(path, headers=headers)
                seconds.append(time.perf_counter() - start)
                if reply.status_code != 200:
                    raise RuntimeError(f"GET {path}: {reply.status_code}")
    return seconds


@dataclass
class Held:
    connected: int
    present: int
    failed: int
    dropped: int
    rss_mib: float
    seconds: float
    idle_admin: list[float]
    loaded_admin: list[float]
    why: dict[str, int] = field(default_factory=dict)
    page_to_socket: list[float] = field(default_factory=list)


def measure_hold(n: int, timeout_s: float, probe: int) -> Held:
    """Try to join n workers (over projects of at most MAX_QUEUE waiting places), 16 at a time, for at most
    timeout_s; a failed join is counted. With `probe`, admin and API requests are timed idle and then loaded.
    The pages are asyncio clients (benchmarks/crowd.py): threaded clients would load the machine more than the
    server does."""
    with runtime_server(max_connected=n + 100) as server:
        projects = [server.project(max_active=ACTIVE_PLACES, max_waiting=min(MAX_QUEUE, n))
                    for _ in range(-(-n // (MAX_QUEUE + ACTIVE_PLACES)))]
        idle = admin_probe(server, projects[0], probe) if probe else []
        crowd = Crowd(server.url, lambda index: f"/join/{projects[index % len(projects)]}",
                      lambda index: {"X-Forwarded-For": scaleout.client_address(index)})
        with crowd:
            elapsed = crowd.join(n, CONNECT_THREADS, timeout_s)
            crowd.settle(idle_s=0.5, max_s=30)
            present = sum(int(server.api("GET", f"/api/projects/{p}")["counts"]["present"]) for p in projects)
            rss = sum(rss_mb(proc.pid) for proc in server.procs)
            loaded = admin_probe(server, projects[0], probe) if probe else []
            return Held(crowd.connected(), present, len(crowd.failed), crowd.dropped, rss, elapsed, idle, loaded,
                        dict(crowd.why), crowd.page_to_socket_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=300)
    parser.add_argument("--churns", type=int, default=200)
    parser.add_argument("--hold", type=int, default=1000, help="workers to hold on the server(s) (0: skip)")
    parser.add_argument("--hold-timeout", type=float, default=300.0, help="seconds allowed for joining them")
    parser.add_argument("--async-mode", choices=("gevent", "eventlet"), default="gevent")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1, help="server processes (2: behind nginx)")
    parser.add_argument("--database-url", default=os.environ.get("PAVILION_TEST_DATABASE_URL", ""),
                        help="PostgreSQL for --processes 2 (default: PAVILION_TEST_DATABASE_URL)")
    parser.add_argument("--admin-probe", type=int, default=0, help="time N admin and N API requests while holding")
    parser.add_argument("--skip-churn", action="store_true", help="only the hold phase")
    parser.add_argument("--echo-server", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server:
        echo_server(args.echo_server, args.async_mode)
        return
    if args.workers <= ACTIVE_PLACES or args.churns < 1 or args.hold < 0:
        parser.error(f"--workers must be more than {ACTIVE_PLACES} (the active places), --churns at least 1")
    SETUP.mode, SETUP.processes, SETUP.database_url = args.async_mode, args.processes, args.database_url
    raise_open_files()
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # dropped sockets are counted instead
    where = f"{args.async_mode}, {args.processes} process{'es behind nginx' if args.processes > 1 else ''}"
    if not args.skip_churn:
        churn_report(args, where)
    if args.hold:
        held = measure_hold(args.hold, args.hold_timeout, args.admin_probe)
        target = 2000 if args.processes > 1 else 1000
        print(f"runtime_latency: hold ({where}): {held.connected} of {args.hold} workers connected, "
              f"{held.present} present in the queues, {held.failed} joins failed, {held.dropped} sockets dropped, "
              f"server RSS {held.rss_mib:.0f} MiB (joining took {held.seconds:.0f} s); "
              f"target {target:,}: {'met' if min(held.connected, held.present) >= target else 'NOT met'}", flush=True)
        if held.page_to_socket:
            s50, s99 = percentiles(held.page_to_socket)
            print(f"runtime_latency: hold: join page to socket accepted p50 {s50:.0f} ms, p99 {s99:.0f} ms, slowest "
                  f"{max(held.page_to_socket):.1f} s (the abandon grace counts from the page)", flush=True)
        if held.why:
            print("runtime_latency: hold: what the dropped pages were told: "
                  + ", ".join(f"{why} x{count}" for why, count in sorted(held.why.items())), flush=True)
        if args.admin_probe:
            i50, i99 = percentiles(held.idle_admin)
            l50, l99 = percentiles(held.loaded_admin)
            print(f"runtime_latency: admin and API ({where}), {len(held.loaded_admin)} requests: idle p50 {i50:.2f} ms,"
                  f" p99 {i99:.2f} ms; with {held.connected} workers connected p50 {l50:.2f} ms, p99 {l99:.2f} ms, "
                  f"slowest {max(held.loaded_admin) * 1000:.1f} ms")


def raise_open_files() -> None:
    """Thousands of client sockets need more descriptors than the usual soft limit of 1,024."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def churn_report(args: argparse.Namespace, where: str) -> None:
    t0 = time.monotonic()
    floor, latency = measure(args.workers, args.churns)
    f50, f99 = percentiles(floor)
    r50, r99 = percentiles(latency)
    print(f"runtime_latency: echo floor ({args.async_mode}, one process), {args.workers} clients connected: "
          f"p50 {f50:.2f} ms, p99 {f99:.2f} ms")
    print(f"runtime_latency: leave -> promoted ({where}), {args.workers} workers connected: p50 {r50:.2f} ms, "
          f"p99 {r99:.2f} ms ({len(latency)} churns alternating with the floor, {time.monotonic() - t0:.0f} s)")
    slowest = ", ".join(f"{ms:.1f}" for ms in sorted(np.asarray(latency) * 1000)[-5:])
    print(f"runtime_latency: the five slowest leave -> promoted: {slowest} ms; slowest floor round trip "
          f"{max(floor) * 1000:.1f} ms")
    ratio = r99 / f99
    print(f"runtime_latency: p99 ratio to the floor {ratio:.1f}x; target <= 3x: {'met' if ratio <= 3 else 'NOT met'}",
          flush=True)


if __name__ == "__main__":
    main()
