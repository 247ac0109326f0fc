"""The JSON admin API (DESIGN.md section 8): bearer tokens, JSON in and out, `{"error"}` with a 4xx status."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import select

from pavilion.runtime.accounts import admin_for_token
from pavilion.runtime.context import get_runtime
from pavilion.runtime.errors import BadInput, NotFound, ServiceError
from pavilion.runtime.eventlog import event_csv
from pavilion.runtime.exports import assignments_csv, ledger_csv
from pavilion.runtime.inputs import request_object
from pavilion.runtime.listing import PROJECT_STATUSES, projects_of, queued_workers, ready_latency
from pavilion.runtime.models import Project
from pavilion.runtime.openapi import openapi_document
from pavilion.runtime.projects import parse_project
from pavilion.runtime.service.transaction import MAX_DB_INT
from pavilion.runtime.tokens import MAX_TOKEN_CHARS, TokenError
from pavilion.runtime.worker.side import get_worker_side

blueprint = Blueprint("api", __name__, url_prefix="/api")


def _error(message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=message), status


@blueprint.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> tuple[Response, int]:
    return _error(str(exc), exc.status)


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Reject the request with 401 unless it carries `Authorization: Bearer <valid token>`."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error("missing bearer token: send 'Authorization: Bearer <token>'", 401)
        runtime = get_runtime()
        admin_id = admin_for_token(runtime.db, token.strip(), runtime.clock)
        if admin_id is None:
            return _error("invalid or revoked API token", 401)
        g.admin_id = admin_id
        if "project_id" in kwargs:
            _check_owner(kwargs["project_id"], admin_id)
        return view(*args, **kwargs)

    return wrapped


def _check_owner(project_id: int, admin_id: int) -> None:
    """A token acts only on its own admin's projects; another's is answered as if it did not exist (no leak)."""
    if not 0 < project_id <= MAX_DB_INT:
        raise NotFound(f"no project {project_id}")
    with get_runtime().db.session_scope() as session:
        owner = session.scalar(select(Project.owner_id).where(Project.id == project_id))
    if owner is None or owner != admin_id:
        raise NotFound(f"no project {project_id}")


def _json_object(optional: bool = False) -> dict[str, Any]:
    return request_object(optional)


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The machine-readable description of this API (OpenAPI 3.1), public: it holds no data."""
    return jsonify(openapi_document())


@blueprint.post("/task-tokens/verify")
@token_required
def verify_task_token() -> Response | tuple[Response, int]:
    """Whether a task token (a task address's pavilion_task_token) is genuine, unexpired and of one of this API
    token's projects: 200 {"valid": true, ...}, else 403 {"valid": false, "error"}; a malformed body is a 400."""
    data = _json_object()
    unknown = set(data) - {"token"}
    if unknown:
        raise BadInput(f"unknown field {sorted(unknown)[0]!r}")
    token = data.get("token")
    if not isinstance(token, str) or not token:
        raise BadInput("missing field 'token' (a non-empty string: the task address's pavilion_task_token)")
    if len(token) > MAX_TOKEN_CHARS:
        raise BadInput(f"token is longer than {MAX_TOKEN_CHARS} characters")
    try:
        claim = get_worker_side().task_tokens.verify(token)
        _check_owner(claim.project_id, g.admin_id)
    except TokenError as exc:
        return jsonify(valid=False, error=str(exc)), 403
    except NotFound:  # another admin's project is answered as a token this one cannot vouch for
        return jsonify(valid=False, error="the task token is not for a project of this API token"), 403
    return jsonify(valid=True, project_id=claim.project_id, worker=claim.worker_id, assignment=claim.assignment_key)


@blueprint.post("/projects")
@token_required
def create_project() -> tuple[Response, int]:
    runtime = get_runtime()
    spec = parse_project(_json_object(), str(runtime.config["PLATFORM"]))
    project_id = runtime.service.create_project(spec, owner_id=g.admin_id)
    return jsonify(id=project_id), 201


@blueprint.get("/projects")
@token_required
def list_projects() -> Response:
    """The token's admin's projects, oldest first; `?status=` keeps one status."""
    unknown = set(request.args) - {"status"}
    if unknown:
        raise BadInput(f"unknown query parameter {sorted(unknown)[0]!r}")
    status = request.args.get("status")
    if status is not None and status not in PROJECT_STATUSES:
        raise BadInput(f"status must be one of {', '.join(PROJECT_STATUSES)}, got {status!r}")
    with get_runtime().db.session_scope() as session:
        return jsonify(projects_of(session, g.admin_id, status))


@blueprint.get("/projects/<int:project_id>")
@token_required
def get_project(project_id: int) -> Response:
    """The snapshot, the queued workers' platform ids (`workers`) and the promotion-to-ready latency."""
    runtime = get_runtime()
    snap = runtime.service.snapshot(project_id)
    with runtime.db.session_scope() as session:
        snap["workers"] = queued_workers(session, project_id, [*snap["waiting"], *snap["active"]])
        snap["ready_latency_s"] = ready_latency(session, project_id)
    return jsonify(snap)


@blueprint.post("/projects/<int:project_id>/launch")
@token_required
def launch(project_id: int) -> Response:
    _json_object(optional=True)
    return jsonify(get_runtime().service.launch(project_id))


@blueprint.post("/projects/<int:project_id>/stop")
@token_required
def stop(project_id: int) -> Response:
    _json_object(optional=True)
    return jsonify(get_runtime().service.stop(project_id))


@blueprint.post("/projects/<int:project_id>/expire")
@token_required
def expire(project_id: int) -> Response:
    _json_object(optional=True)
    return jsonify(get_runtime().service.expire(project_id))


@blueprint.post("/projects/<int:project_id>/migrate")
@token_required
def migrate(project_id: int) -> Response:
    data = _json_object()
    if "worker_id" not in data:
        raise BadInput("missing field 'worker_id'")
    unknown = set(data) - {"worker_id", "force"}
    if unknown:
        raise BadInput(f"unknown field {sorted(unknown)[0]!r}")
    return jsonify(get_runtime().service.migrate(project_id, data["worker_id"], data.get("force", False)))


@blueprint.get("/projects/<int:project_id>/events.csv")
@token_required
def events_csv(project_id: int) -> Response:
    runtime = get_runtime()
    runtime.service.snapshot(project_id)  # 404 for an unknown project
    with runtime.db.session_scope() as session:
        text = event_csv(session, project_id)
    return _csv(text, f"project-{project_id}-events.csv")


@blueprint.get("/projects/<int:project_id>/assignments.csv")
@token_required
def assignments(project_id: int) -> Response:
    """One row per stint (columns: pavilion.runtime.exports.ASSIGNMENT_COLUMNS, README)."""
    with get_runtime().db.session_scope() as session:
        text = assignments_csv(session, session.get_one(Project, project_id))
    return _csv(text, f"project-{project_id}-assignments.csv")


@blueprint.get("/projects/<int:project_id>/ledger.csv")
@token_required
def ledger(project_id: int) -> Response:
    """One row per ledger line (columns: pavilion.runtime.exports.LEDGER_COLUMNS, README)."""
    with get_runtime().db.session_scope() as session:
        text = ledger_csv(session, project_id)
    return _csv(text, f"project-{project_id}-ledger.csv")


def _csv(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={filename}"})
