"""Runtime configuration: defaults < instance/pavilion.cfg < PAVILION_* environment < the mapping for create_app."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pavilion.errors import InputError
from pavilion.runtime import database_url

ENV_PREFIX = "PAVILION_"

# Every key the runtime reads, with its default; the environment and the instance file may set only these,
# plus platform credentials (keys starting with a platform name, e.g. PAVILION_MTURK_ACCESS_KEY_ID).
DEFAULTS: dict[str, Any] = {
    "ENV": "development",  # development | production | testing
    "INSTANCE_PATH": "",  # "" -> ./instance
    "DATABASE_URL": "",  # "" -> sqlite:///<instance>/pavilion.sqlite
    "SECRET_KEY": "",  # "" -> generated and kept in <instance>/secret_key (never in production)
    "PLATFORM": "local",  # the default platform of new projects
    "ABANDON_GRACE_S": 15.0,  # a worker with no socket and no heartbeat this long has abandoned
    "TOKEN_MAX_AGE_S": 6 * 3600,  # worker tokens expire after this
    "PUBLIC_URL": "",  # base URL for task links given to platforms ("" -> the request's host)
    "ASYNC_MODE": "",  # gevent | threading | eventlet; "" -> what the process runs on (gevent once patched)
    "AUTO_MIGRATE": True,  # run `db upgrade` when the app starts (development convenience)
    "BACKGROUND_TASKS": None,  # outbox retry, reconciliation, presence sweeps; None -> on with gevent/eventlet
    "MESSAGE_QUEUE": "",  # e.g. redis://127.0.0.1:6379/0: Socket.IO emits relayed between server processes
    "MAX_WORKERS_CONNECTED": 2000,  # per process: joins beyond this get a "full" page (admin and API stay up)
    "JOB_LOG": "",  # a file: one line per periodic job run (time, job, pid), to audit job ownership
    "OUTBOX_RETRY_S": 10.0,  # seconds between outbox retry passes
    "GC_PAUSE_LOG_MS": 100.0,  # `pavilion serve` logs each garbage-collector pause at least this long (0: never)
    "GC_THRESHOLDS": "10000,20,100",  # `pavilion serve`'s gc.set_threshold (Python's default: 700,10,10)
    "QUEUE_REFRESH_S": 0.5,  # when serving, positions and counts reach pages at most this often (coalesced)
    "RECONCILE_S": 60.0,  # seconds between platform reconciliation passes
    "MAX_CONTENT_LENGTH": 64 * 1024,  # bytes; larger request bodies get 413
    "SQL_ECHO": False,
    "RATELIMIT_STORAGE_URI": "",  # Flask-Limiter storage ("" -> MESSAGE_QUEUE's Redis, else memory per process)
    "LOGIN_LIMIT_PER_USER": "5 per minute",  # failed admin logins allowed per username
    "LOGIN_LIMIT_PER_IP": "20 per minute",  # failed admin logins allowed per client address
    "SOCKET_EVENT_BURST": 10,  # events a worker's socket may send at once; then SOCKET_EVENT_RATE_PER_S
    "SOCKET_EVENT_RATE_PER_S": 5.0,  # sustained events per second per socket (a page sends one per 5 s); more dropped
    "SOCKET_ABUSE_DROPS": 200,  # this many dropped within a minute: the socket is disconnected
    "HEARTBEAT_CACHE_S": 10.0,  # a heartbeat reads the stint from the database at most this often per stint
}

PLATFORM_PREFIXES = ("MTURK_", "PROLIFIC_", "LOCAL_")

Clock = Callable[[], datetime]


ASYNC_MODES = ("gevent", "threading", "eventlet")


def patched_async_mode() -> str:
    """The async mode the standard library was patched for (gunicorn -k gevent, `pavilion serve`), else threading."""
    import socket

    module = getattr(socket.socket, "__module__", "")  # gevent._socket3 / eventlet.greenio.base once patched
    for mode in ("gevent", "eventlet"):
        if module.startswith(mode):
            return mode
    return "threading"


def utc_now() -> datetime:
    """The server clock: an aware UTC datetime."""
    return datetime.now(UTC)


def _coerce(key: str, raw: str) -> Any:
    """Parse an environment string into the type of the key's default; bad values name the variable."""
    default = DEFAULTS.get(key)
    try:
        if isinstance(default, bool) or key == "BACKGROUND_TASKS":
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        kind = "true/false" if isinstance(default, bool) else type(default).__name__
        raise InputError(f"{ENV_PREFIX}{key} must be {kind}, got {raw!r}") from None
    return raw


def from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """The PAVILION_* variables that name a known key or a platform credential (and DATABASE_URL)."""
    found: dict[str, Any] = {}
    url, _ = database_url.from_environ(environ)
    if url:
        found["DATABASE_URL"] = url
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(ENV_PREFIX + "TEST_"):
            continue
        key = name[len(ENV_PREFIX) :]
        if (key in DEFAULTS and key != "DATABASE_URL") or key.startswith(PLATFORM_PREFIXES):
            found[key] = _coerce(key, raw)
    return found


def from_instance_file(path: Path) -> dict[str, Any]:
    """Upper-case assignments from the optional instance/pavilion.cfg (a Python file, as Flask reads it)."""
    if not path.is_file():
        return {}
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - the admin's own config file
    return {k: v for k, v in namespace.items() if k.isupper()}


def _secret_key(instance: Path, env: str) -> str:
    if env == "production":
        raise InputError("PAVILION_SECRET_KEY must be set when PAVILION_ENV=production")
    path = instance / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def load_config(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Resolve the configuration; fill in the instance folder, the database URL and the secret key."""
    env_values = from_environ(os.environ if environ is None else environ)
    given = dict(overrides or {})
    first = {**DEFAULTS, **env_values, **given}
    instance = Path(first["INSTANCE_PATH"] or "instance").resolve()
    config = {**DEFAULTS, **from_instance_file(instance / "pavilion.cfg"), **env_values, **given}
    config["INSTANCE_PATH"] = str(instance)
    if config["ENV"] not in ("development", "production", "testing"):
        raise InputError(f"PAVILION_ENV must be development, production or testing, got {config['ENV']!r}")
    needs_instance = not config["DATABASE_URL"] or not config["SECRET_KEY"]
    if needs_instance and config["ENV"] != "production":
        instance.mkdir(parents=True, exist_ok=True)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'pavilion.sqlite'}"
    config["DATABASE_URL"] = database_url.normalise(str(config["DATABASE_URL"]))
    if config["ENV"] == "production":
        _, variable = database_url.from_environ(os.environ if environ is None else environ)
        database_url.check_sqlite_folder(config["DATABASE_URL"], variable or "PAVILION_DATABASE_URL (unset)")
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _secret_key(instance, config["ENV"])
    for key in ("ABANDON_GRACE_S", "QUEUE_REFRESH_S"):
        if float(config[key]) <= 0:
            raise InputError(f"PAVILION_{key} must be > 0, got {config[key]}")
    config["ASYNC_MODE"] = config["ASYNC_MODE"] or patched_async_mode()
    if config["ASYNC_MODE"] not in ASYNC_MODES:
        raise InputError(f"PAVILION_ASYNC_MODE must be gevent, threading or eventlet, got {config['ASYNC_MODE']!r}")
    if config["BACKGROUND_TASKS"] is None:
        config["BACKGROUND_TASKS"] = config["ASYNC_MODE"] != "threading"
    config.setdefault("CLOCK", utc_now)
    return config
