"""Helpers for runtime_latency.py --processes N: a private Redis, a PostgreSQL schema, nginx from deploy/nginx.conf.

nginx's ip_hash spreads clients by address; every benchmark client comes from 127.0.0.1, so each sends its own
address in X-Forwarded-For and the generated config trusts that header from the loopback (realip), as an nginx
behind a cloud load balancer would. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not listening(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listening on {port}")
        time.sleep(0.1)


@contextlib.contextmanager
def redis(folder: Path) -> Iterator[str]:
    """A redis-server of our own on a free port (no other Socket.IO traffic on its channel)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema in the PostgreSQL at `url`, dropped afterwards; the URL that uses it."""
    from sqlalchemy import create_engine, text

    schema = f"pavilion_bench_{secrets.token_hex(5)}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def nginx_config(folder: Path, listen: int, upstreams: list[int]) -> Path:
    """deploy/nginx.conf with these ports, its files in `folder`, the client address from X-Forwarded-For."""
    conf = (REPO / "deploy" / "nginx.conf").read_text()
    conf = re.sub(r"pid [^;]+;", f"pid {folder}/nginx.pid;\nerror_log {folder}/nginx-error.log;", conf)
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    servers = "".join(f"        server 127.0.0.1:{port};\n" for port in upstreams)
    conf = re.sub(r"(        server 127\.0\.0\.1:\d+;\n)+", servers, conf)
    extra = ("    log_format upstreams '$remote_addr $upstream_addr $request_uri';\n"
             f"    access_log {folder}/nginx-access.log upstreams;\n"
             "    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Forwarded-For;\n"
             + "".join(f"    {kind}_temp_path {folder}/{kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")))
    conf = conf.replace("http {\n", "http {\n" + extra, 1)
    path = folder / "nginx.conf"
    path.write_text(conf)
    return path


@contextlib.contextmanager
def nginx(folder: Path, upstreams: list[int]) -> Iterator[int]:
    """nginx in the foreground on a free port in front of `upstreams`; its port."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx is not installed (make nginx)")
    port = free_port()
    conf = nginx_config(folder, port, upstreams)
    proc = subprocess.Popen([binary, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def client_address(index: int) -> str:
    """A distinct loopback address per client (ip_hash reads the first three octets)."""
    return f"127.{index // 250 + 1}.{index % 250}.1"
