"""The worker side of the live runtime: task pages, the /worker Socket.IO namespace, presence and the grace sweep."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

PRESENCE_SWEEP_S = 1.0  # how often stale stints are looked for; the grace itself is ABANDON_GRACE_S


def make_blueprint() -> Blueprint:
    """The `worker` blueprint: routes, templates and static files (the vendored socket.io client among them)."""
    from pavilion.runtime.worker.routes import make_routes
    from pavilion.runtime.worker.task_routes import make_task_routes

    blueprint = Blueprint(
        "worker",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/worker/static",
    )
    make_routes(blueprint)
    make_task_routes(blueprint)
    return blueprint


def init_app(app: Flask, socketio: Any) -> None:
    """Register the worker blueprint, the `/worker` namespace and the presence sweep of the app's runtime."""
    from pavilion.runtime.context import get_runtime
    from pavilion.runtime.worker import floodgate, frames, sweeper
    from pavilion.runtime.worker.content import task_url_for
    from pavilion.runtime.worker.namespace import WorkerNamespace
    from pavilion.runtime.worker.side import EXTENSION, build_side
    from pavilion.runtime.worker.task_routes import task_done

    runtime = get_runtime(app)
    side = build_side(runtime)
    app.extensions[EXTENSION] = side
    runtime.service.task_url = task_url_for(str(app.config["INSTANCE_PATH"]), side.task_tokens)
    runtime.service.refresher.listeners.append(side.stints.told)  # heartbeats answer with the place just sent
    runtime.service.refresher.status_listeners.append(side.stints.project_status)
    app.register_blueprint(make_blueprint())
    # A machine-to-machine report, authenticated by the signed task token in its body, never by a cookie: a
    # forged cross-site request has no token to send, so CSRF protection (a form token) has nothing to add.
    app.extensions["csrf"].exempt(task_done)
    namespace = WorkerNamespace(side)
    socketio.on_namespace(namespace)
    frames.guard(socketio)  # malformed frames: one log line each, not a traceback (the whole server)
    floodgate.install(socketio, side.limiter, namespace.describe)  # outermost: a dropped frame costs nothing more
    runtime.add_periodic("presence", PRESENCE_SWEEP_S, lambda: sweeper.sweep(side))
    # Every process writes its own sightings (it is not a job for one process at a time, unlike the sweep).
    runtime.add_periodic("presence-flush", side.flush_s, lambda: sweeper.flush(side))
