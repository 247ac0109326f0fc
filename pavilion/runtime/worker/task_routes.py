"""The project's own task: its template (`/content`) and its completion report (`POST /done`), by the task token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, make_response, request
from jinja2 import TemplateError

from pavilion.runtime.errors import BadInput, ServiceError
from pavilion.runtime.inputs import check_text, request_object
from pavilion.runtime.models import Assignment, Project
from pavilion.runtime.task_tokens import ASSIGNMENT_PARAM, TOKEN_PARAM, WORKER_PARAM, task_params
from pavilion.runtime.tokens import MAX_TOKEN_CHARS, TokenError, WorkerClaim
from pavilion.runtime.worker.content import render_template_file
from pavilion.runtime.worker.namespace import Refused, leave_rule
from pavilion.runtime.worker.routes import message_page
from pavilion.runtime.worker.side import WorkerSide, get_worker_side
from pavilion.runtime.worker.stint import StintError

DONE_FIELDS = frozenset({"token", TOKEN_PARAM, WORKER_PARAM, ASSIGNMENT_PARAM})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
DONE_SOURCE = "task"  # the event log's detail for a departure the task reported (DESIGN.md section 9)


class Ended(Exception):
    """The stint had already ended (`how`) when the task reported it done."""

    def __init__(self, how: str) -> None:
        super().__init__(f"this worker's stint has already ended ({how})")
        self.how = how


def content_claim(side: WorkerSide, project_id: int) -> tuple[WorkerClaim, str]:
    """Who opens the template: the task token of its address, else the worker's own token (`?token=`);
    with the task token to show them. TokenError when neither is a valid token of this project."""
    task_token = request.args.get(TOKEN_PARAM)
    if task_token:
        claim = side.task_tokens.verify(task_token)
    else:
        claim = side.tokens.verify(request.args.get("token"))
        task_token = side.task_tokens.issue(claim)
    if claim.project_id != project_id:
        raise TokenError("this token belongs to another session")
    return claim, task_token


def content(project_id: int) -> Any:
    """The project's own task template (instance/tasks/<id>.html), framed for promoted workers; only for a worker
    of this project (403 otherwise). The template sees pavilion_worker, pavilion_assignment, pavilion_task_token."""
    side = get_worker_side()
    try:
        claim, task_token = content_claim(side, project_id)
        _adapter, view = side.runtime.service.platform_view(project_id)
    except TokenError as exc:
        return message_page("Link not valid", str(exc), 403)
    except ServiceError as exc:
        return message_page("No such session", str(exc), exc.status)
    context = {"project_id": view.id, "name": view.name, "title": view.task.get("title", ""),
               "description": view.task.get("description", ""), **task_params(claim, task_token)}
    try:
        html = render_template_file(str(side.runtime.config["INSTANCE_PATH"]), project_id, context)
    except TemplateError as exc:
        return message_page("Task not available", f"the task template has an error: {exc}", 500)
    if html is None:
        return message_page("No task content", "this session has no task template", 404)
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the task token is in this page's address
    return response


def done_fields() -> dict[str, str]:
    """The report's fields, from a JSON object or a form, and the query string; each given once at most."""
    pairs: list[tuple[str, Any]] = []
    if request.mimetype in FORM_TYPES:
        pairs += request.form.items(multi=True)
    elif request.get_data(cache=True):
        pairs += request_object().items()  # 400 unless a JSON object
    pairs += request.args.items(multi=True)
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name not in DONE_FIELDS:
            raise BadInput(f"unknown field {name[:64]!r}; send token (or {TOKEN_PARAM})")
        if not isinstance(value, str):
            raise BadInput(f"{name} must be a string, got {type(value).__name__}")
        if len(value) > MAX_TOKEN_CHARS:
            raise BadInput(f"{name} is longer than {MAX_TOKEN_CHARS} characters")
        if fields.setdefault(name, check_text(value, name)) != value:
            raise BadInput(f"{name} is given twice with different values")
    tokens = {fields[name] for name in ("token", TOKEN_PARAM) if name in fields}
    if len(tokens) > 1:
        raise BadInput(f"token and {TOKEN_PARAM} differ; send one task token")
    if not tokens:
        raise BadInput(f"missing field 'token' (the {TOKEN_PARAM} of the task's address)")
    return fields


def done_rule(claim: WorkerClaim) -> Callable[[Project, Assignment, datetime], None]:
    """The worker's own `leave {"how": "submitted"}` rules, with an ended stint told apart (Ended)."""
    rule = leave_rule(claim, "submitted")

    def check(project: Project, assignment: Assignment, now: datetime) -> None:
        if assignment.left_at is not None and assignment.worker.platform_worker_id == claim.worker_id:
            raise Ended(assignment.how_left or "left")
        rule(project, assignment, now)

    return check


def _error(message: str, status: int, **extra: Any) -> tuple[Response, int]:
    return jsonify(error=message, **extra), status


def task_done(project_id: int) -> Any:
    """The project's task reports that its worker finished: the stint ends as `submitted`, as the worker's own
    `leave` would, and the page is told `stop` (it then posts the platform's submit form). Idempotent: a stint
    already submitted answers 200 with "already": true; one that ended otherwise answers 409."""
    side = get_worker_side()
    try:
        fields = done_fields()
        claim = side.task_tokens.verify(fields.get("token") or fields.get(TOKEN_PARAM))
    except ServiceError as exc:
        return _error(str(exc), exc.status)
    except TokenError as exc:
        return _error(str(exc), 403)
    if claim.project_id != project_id:
        return _error("this task token belongs to another session", 403)
    if fields.get(WORKER_PARAM, claim.worker_id) != claim.worker_id or (
            fields.get(ASSIGNMENT_PARAM, claim.assignment_key) != claim.assignment_key):
        return _error(f"{WORKER_PARAM} or {ASSIGNMENT_PARAM} does not match the task token", 403)
    who = {"worker": claim.worker_id, "assignment": claim.assignment_key}
    try:
        side.runtime.service.depart(project_id, claim.assignment_key, "submitted", source=DONE_SOURCE,
                                    check=done_rule(claim))
    except Ended as exc:
        if exc.how == "submitted":
            return jsonify(ok=True, how="submitted", already=True, **who)
        return _error(str(exc), 409, how=exc.how)
    except Refused as exc:
        return _error(str(exc), 409)
    except StintError as exc:
        return _error(str(exc), exc.status)
    except ServiceError as exc:
        return _error(str(exc), exc.status)
    side.presence.forget(claim.assignment_key)
    side.stints.forget(claim.assignment_key)
    # The page submits on `stop`; `submitted` says the stint is already recorded, so it need not `leave` first.
    side.runtime.notifier.to_worker(claim.assignment_key, "stop", {"submitted": True})
    return jsonify(ok=True, how="submitted", already=False, **who)


def make_task_routes(blueprint: Blueprint) -> None:
    """Attach the task routes to the worker blueprint."""
    blueprint.add_url_rule("/task/<int:project_id>/content", "content", content)
    blueprint.add_url_rule("/task/<int:project_id>/done", "task_done", task_done, methods=["POST"])
