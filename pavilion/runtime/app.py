"""The app factory: `create_app(config)` builds the database, Socket.IO, service and blueprints; nothing at import."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from pavilion.runtime.config import load_config

log = logging.getLogger("pavilion.runtime")


def _spawner(socketio: Any, background: bool) -> Any:
    """How the service runs the outbox after an event: a background task when serving, inline otherwise."""
    if not background:
        return lambda fn, *args: fn(*args)
    return lambda fn, *args: socketio.start_background_task(fn, *args)


def _login(app: Flask, db: Any) -> None:
    from flask_login import LoginManager

    from pavilion.runtime.models import Admin

    manager = LoginManager(app)

    def load_admin(admin_id: str) -> Admin | None:
        if not admin_id.isdigit():
            return None
        with db.session_scope() as session:
            admin: Admin | None = session.get(Admin, int(admin_id))
            return admin

    manager.user_loader(load_admin)


def _json_errors(app: Flask) -> None:
    """API clients get `{"error": ...}` for HTTP errors (413 oversized body, 404, 405, ...)."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            response = jsonify(error=exc.description or exc.name)
            response.status_code = exc.code or 500
            return response
        return exc


def _serving_log() -> None:
    """When serving, the runtime's INFO lines (database opened, job owners) reach stderr under any server."""
    root = logging.getLogger("pavilion")
    if not root.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s pavilion[%(process)d] %(levelname)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def _socketio(app: Flask, settings: Mapping[str, Any]) -> Any:
    """The SocketIO server; with MESSAGE_QUEUE (Redis) its emits reach workers connected to other processes."""
    from flask_socketio import SocketIO

    queue = str(settings["MESSAGE_QUEUE"]) or None
    return SocketIO(
        app, async_mode=settings["ASYNC_MODE"], max_http_buffer_size=int(settings["MAX_CONTENT_LENGTH"]),
        message_queue=queue, channel="pavilion-socketio",
    )


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a runtime app: defaults < instance/pavilion.cfg < PAVILION_* environment < `config`."""
    from flask_wtf import CSRFProtect

    from pavilion.runtime import admin, api, capacity, inputs, jobs, migrate, platforms, worker
    from pavilion.runtime.context import Periodic, Runtime
    from pavilion.runtime.database_url import redacted
    from pavilion.runtime.db import Database, make_engine
    from pavilion.runtime.notify import SocketIONotifier
    from pavilion.runtime.platforms.base import HOST_EXTENSION, PlatformHost
    from pavilion.runtime.service import PolicyService

    settings = load_config(config)
    app = Flask("pavilion.runtime", instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    if "SESSION_COOKIE_SAMESITE" not in settings:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if settings["ENV"] == "production" and "SESSION_COOKIE_SECURE" not in settings:
        app.config["SESSION_COOKIE_SECURE"] = True  # admin sessions only over HTTPS
    serving = bool(settings["BACKGROUND_TASKS"])
    if serving:
        _serving_log()
        capacity.raise_open_files(int(settings["MAX_WORKERS_CONNECTED"]) + capacity.RESERVE + 1024)
    db = Database(make_engine(settings["DATABASE_URL"], echo=bool(settings["SQL_ECHO"])))
    log.info("database %s (%s mode)", redacted(settings["DATABASE_URL"]), settings["ASYNC_MODE"])
    if settings["AUTO_MIGRATE"]:
        migrate.upgrade(db.engine)
    socketio = _socketio(app, settings)
    notifier = SocketIONotifier(socketio)
    clock = settings["CLOCK"]
    service = PolicyService(db, notifier, clock, app.config, _spawner(socketio, bool(settings["BACKGROUND_TASKS"])))
    if settings["BACKGROUND_TASKS"]:
        service.refresh_inline = False  # positions and counts go out in coalesced bursts (pavilion.runtime.refresh)
        service.refresher.pause = lambda: socketio.sleep(0)
    runtime = Runtime(app.config, db, socketio, notifier, service, clock)
    if serving:
        runtime.owners = jobs.ownership(db.engine)
        runtime.job_log = jobs.JobLog(str(settings["JOB_LOG"]))
        runtime.on_claim["outbox"] = service.outbox.recover  # the dead owner's calls in flight are retried
    runtime.periodic += [
        Periodic("outbox", float(settings["OUTBOX_RETRY_S"]), service.outbox.run),
        Periodic("reconcile", float(settings["RECONCILE_S"]), service.reconcile_all),
    ]
    app.extensions["pavilion"] = runtime
    service.scheduler = runtime.add_periodic
    host: PlatformHost = service  # what adapters may ask of the runtime (pavilion.runtime.platforms.base)
    app.extensions[HOST_EXTENSION] = host
    _login(app, db)
    csrf = CSRFProtect(app)
    app.register_blueprint(api.blueprint)
    csrf.exempt(api.blueprint)  # bearer tokens, not cookies: no CSRF exposure
    _json_errors(app)
    inputs.init_app(app)  # deep JSON, unencodable text, a NUL refused by PostgreSQL: 400, never 500
    worker.init_app(app, socketio)
    capacity.init_app(app, socketio)
    admin.init_app(app, socketio)
    platforms.init_platforms(app, socketio)
    if serving:
        runtime.start_background()
    return app
