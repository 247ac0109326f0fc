"""`pavilion serve`, `pavilion db upgrade`, `pavilion admin create-user|create-token|list-tokens|revoke-token`:
thin runtime wrappers."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from pavilion.errors import InputError


@contextmanager
def _database_errors() -> Iterator[None]:
    """A database that cannot be reached or read is bad configuration: one line, no traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise InputError(f"database error ({type(exc).__name__}): {cause[0] if cause else exc!r}") from None


def _with_database_errors(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @wraps(command)
    def run(args: argparse.Namespace) -> int:
        with _database_errors():
            return command(args)

    return run


def _platform_classes() -> list[Any]:
    from pavilion.runtime.platforms import PLATFORMS, platform_class

    return [platform_class(name) for name in sorted(PLATFORMS)]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the runtime's subcommands."""
    serve = sub.add_parser("serve", help="run the live runtime (Flask-SocketIO on gevent)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default: $PORT, else 5000)")
    serve.add_argument("--platform", default=None, help="default platform of new projects (default: local)")
    from pavilion.runtime.platforms import add_serve_arguments  # light: the adapters are not imported

    add_serve_arguments(serve)
    serve.set_defaults(func=_with_database_errors(_serve))

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply every migration (SQLite or PostgreSQL)")
    upgrade.set_defaults(func=_with_database_errors(_db_upgrade))

    admin = sub.add_parser("admin", help="admin accounts and API tokens")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    user = admin_sub.add_parser("create-user", help="create an admin (the password is prompted for)")
    user.add_argument("username")
    user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user.set_defaults(func=_with_database_errors(_create_user))
    token = admin_sub.add_parser("create-token", help="make an API token for an admin (printed once)")
    token.add_argument("username")
    token.set_defaults(func=_with_database_errors(_create_token))
    listing = admin_sub.add_parser("list-tokens", help="list API tokens (id, user, first characters, last use)")
    listing.add_argument("username", nargs="?", default=None, help="only this admin's tokens")
    listing.set_defaults(func=_with_database_errors(_list_tokens))
    revoke = admin_sub.add_parser("revoke-token", help="revoke an API token (by id or first characters) or a user's")
    revoke.add_argument("token", nargs="?", default="",
                        help="the token's id, its first characters, or the token (after -- when it starts with -)")
    revoke.add_argument("--user", default="", help="revoke every token of this admin")
    revoke.set_defaults(func=_with_database_errors(_revoke_token))
    users = admin_sub.add_parser("list-users", help="list admins (id, user, created, active API tokens)")
    users.set_defaults(func=_with_database_errors(_list_users))
    password = admin_sub.add_parser("set-password", help="change an admin's password (signs out its browser logins)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password.set_defaults(func=_with_database_errors(_set_password))


def _port(given: int | None) -> int:
    """--port, else the platform's PORT variable, else 5000."""
    if given is None:
        raw = os.environ.get("PORT", "").strip()
        if raw and not raw.isdigit():
            raise InputError(f"PORT must be a port number, got {raw!r}")
        given = int(raw) if raw else 5000
    if not 0 < given < 65536:
        raise InputError(f"--port must be between 1 and 65535, got {given}")
    return given


def _patch(mode: str) -> str:
    """Make the standard library cooperative for the chosen server: gevent (default) or eventlet (deprecated)."""
    import warnings

    if mode not in ("gevent", "eventlet"):
        raise InputError(f"PAVILION_ASYNC_MODE must be gevent or eventlet for `pavilion serve`, got {mode!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # eventlet announces its maintenance mode on import
            if mode == "gevent":
                from gevent import monkey

                monkey.patch_all()
            else:
                import eventlet

                eventlet.monkey_patch()
    except ImportError:
        raise InputError(f"PAVILION_ASYNC_MODE={mode} but {mode} is not installed (pip install {mode})") from None
    return mode


def _serve(args: argparse.Namespace) -> int:
    import gc

    from pavilion.runtime.platforms import PLATFORMS

    if args.platform is not None and args.platform not in PLATFORMS:
        raise InputError(f"--platform must be one of {', '.join(sorted(PLATFORMS))}, got {args.platform!r}")
    args.port = _port(args.port)

    mode = _patch(os.environ.get("PAVILION_ASYNC_MODE", "") or "gevent")
    from pavilion.runtime import create_app, gcwatch
    from pavilion.runtime.context import get_runtime

    overrides: dict[str, Any] = {"ASYNC_MODE": mode, "BACKGROUND_TASKS": True}
    if args.platform is not None:
        overrides["PLATFORM"] = args.platform
    for cls in _platform_classes():
        hook = getattr(cls, "settings_from_args", None)
        if hook is not None:
            overrides.update(hook(args))
    app = create_app(overrides)
    runtime = get_runtime(app)
    # The start-up objects (modules, models, compiled queries) live as long as the process; freezing them keeps
    # the collector's full passes, which stall every connected socket while they run, short (measured: 65 ms less).
    gc.collect()
    gc.freeze()
    # Python's default (700, 10, 10) runs a full pass every ~70,000 allocations; with 2,300 sockets open one pass
    # took 490 ms and came every 3 s (PAVILION_GC_PAUSE_LOG_MS's log). Rarer full passes free the same cycles later.
    gc.set_threshold(*gcwatch.thresholds(str(app.config["GC_THRESHOLDS"])))
    gcwatch.install(float(app.config["GC_PAUSE_LOG_MS"]))
    where = f"http://{args.host}:{args.port} (platform {app.config['PLATFORM']}, {mode})"
    print(f"pavilion: serving on {where}", flush=True)
    limits = _server_limits(mode, app.config)
    try:
        runtime.socketio.run(app, host=args.host, port=args.port, log_output=False, **limits)
    finally:
        runtime.shutdown()
    return 0


def _server_limits(mode: str, config: Any) -> dict[str, Any]:
    """Deliberate connection limits: gevent accepts without a pool (the cap gates joins); eventlet's pool sized."""
    from pavilion.runtime.capacity import RESERVE

    ceiling = int(config["MAX_WORKERS_CONNECTED"]) + RESERVE
    if mode == "eventlet":
        return {"max_size": max(ceiling, 1024)}  # eventlet's default pool (1,024) was the old ceiling
    return {"backlog": 2048}


def _database() -> Any:
    from pavilion.runtime.config import load_config
    from pavilion.runtime.db import Database, make_engine

    config = load_config()
    return config, Database(make_engine(config["DATABASE_URL"]))


def _db_upgrade(args: argparse.Namespace) -> int:
    from pavilion.runtime import migrate

    _, db = _database()
    try:
        migrate.upgrade(db.engine)
        print(f"pavilion: database at revision {migrate.current(db.engine)}")
    finally:
        db.dispose()
    return 0


def _ready_database() -> Any:
    """The configured database, brought up to date in development, checked in production."""
    from pavilion.runtime import migrate

    config, db = _database()
    if config["AUTO_MIGRATE"] and config["ENV"] != "production":
        migrate.upgrade(db.engine)
    elif migrate.current(db.engine) != migrate.head(db.engine):
        db.dispose()
        raise InputError("the database schema is not up to date; run `pavilion db upgrade` first")
    return config, db


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise InputError("the two passwords differ")
    return first


def _create_user(args: argparse.Namespace) -> int:
    from pavilion.runtime.accounts import create_admin

    password = _read_password(args.password_stdin)
    config, db = _ready_database()
    try:
        create_admin(db, args.username, password, config["CLOCK"])
    finally:
        db.dispose()
    print(f"pavilion: created admin {args.username!r}")
    return 0


def _create_token(args: argparse.Namespace) -> int:
    from pavilion.runtime.accounts import create_token

    config, db = _ready_database()
    try:
        token = create_token(db, args.username, config["CLOCK"])
    finally:
        db.dispose()
    print(token)
    return 0


def _list_tokens(args: argparse.Namespace) -> int:
    from pavilion.runtime.accounts import list_tokens

    _, db = _ready_database()
    try:
        tokens = list_tokens(db, args.username)
    finally:
        db.dispose()
    print("id\tuser\tprefix\tcreated_at\tlast_used_at\tstatus")
    for t in tokens:
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
        status = f"revoked {t.revoked_at.isoformat(timespec='seconds')}" if t.revoked_at else "active"
        created = t.created_at.isoformat(timespec="seconds")
        print(f"{t.id}\t{t.username}\t{t.prefix or '?'}\t{created}\t{used}\t{status}")
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    from pavilion.runtime.accounts import revoke_tokens

    config, db = _ready_database()
    try:
        revoked = revoke_tokens(db, config["CLOCK"], token=args.token, username=args.user)
    finally:
        db.dispose()
    print(f"pavilion: revoked {len(revoked)} token(s): {', '.join(map(str, revoked)) or 'none active'}")
    return 0


def _list_users(args: argparse.Namespace) -> int:
    from pavilion.runtime.accounts import list_admins

    _, db = _ready_database()
    try:
        users = list_admins(db)
    finally:
        db.dispose()
    print("id\tuser\tcreated_at\tactive_tokens")
    for u in users:
        print(f"{u.id}\t{u.username}\t{u.created_at.isoformat(timespec='seconds')}\t{u.active_tokens}")
    return 0


def _set_password(args: argparse.Namespace) -> int:
    from pavilion.runtime.accounts import set_password

    password = _read_password(args.password_stdin)
    config, db = _ready_database()
    try:
        signed_out = set_password(db, args.username, password, config["CLOCK"])
    finally:
        db.dispose()
    print(f"pavilion: changed the password of {args.username!r}; signed out {signed_out} browser login(s)")
    return 0
