"""Admin pages: project list, create/edit forms, the project dashboard and its buttons, the ledger, CSV exports."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from pavilion.core import POLICIES
from pavilion.runtime import platforms
from pavilion.runtime.admin import queries
from pavilion.runtime.admin.forms import ActionForm, MigrateForm, ProjectForm
from pavilion.runtime.admin.launch_report import launch_report
from pavilion.runtime.admin.presence_view import dashboard_presence
from pavilion.runtime.admin.project_data import field_for, form_to_data, project_to_formdata
from pavilion.runtime.admin.runtime import database, service
from pavilion.runtime.errors import BadInput, Conflict, NotFound, ServiceError
from pavilion.runtime.eventlog import event_csv
from pavilion.runtime.exports import assignments_csv as assignments_text
from pavilion.runtime.exports import ledger_csv as ledger_text
from pavilion.runtime.listing import ready_latency
from pavilion.runtime.models import Project
from pavilion.runtime.projects import ProjectSpec, parse_project
from pavilion.runtime.snapshots import snapshot

# What the "New project" form starts from: the README's example queues, a modest lab wage (and the platform
# `pavilion serve --platform` or PAVILION_PLATFORM chose, filled in per request).
NEW_PROJECT: dict[str, Any] = {
    "policy": "pavilion", "min_active": 2, "max_active": 3, "min_waiting": 1, "max_waiting": 3,
    "reward": Decimal("0.50"), "waiting_wage_per_hour": Decimal("6.00"), "active_wage_per_hour": Decimal("9.00"),
    "max_waiting_s": 600,
}


def register_views(bp: Blueprint) -> None:
    """Add every admin page to the blueprint (each one requires a logged-in admin)."""
    routes: list[tuple[str, str, Callable[..., ResponseReturnValue], list[str]]] = [
        ("/", "index", index, ["GET"]),
        ("/projects", "projects", projects, ["GET"]),
        ("/projects/new", "new_project", new_project, ["GET", "POST"]),
        ("/projects/<int:project_id>", "project", project_page, ["GET"]),
        ("/projects/<int:project_id>/edit", "edit_project", edit_project, ["GET", "POST"]),
        ("/projects/<int:project_id>/launch", "launch", launch, ["POST"]),
        ("/projects/<int:project_id>/stop", "stop", stop, ["POST"]),
        ("/projects/<int:project_id>/expire", "expire", expire, ["POST"]),
        ("/projects/<int:project_id>/migrate", "migrate", migrate, ["POST"]),
        ("/projects/<int:project_id>/ledger", "ledger", ledger, ["GET"]),
        ("/projects/<int:project_id>/events.csv", "events_csv", events_csv, ["GET"]),
        ("/projects/<int:project_id>/assignments.csv", "assignments_csv", assignments_csv, ["GET"]),
        ("/projects/<int:project_id>/ledger.csv", "ledger_csv", ledger_csv, ["GET"]),
    ]
    for rule, endpoint, view, methods in routes:
        bp.add_url_rule(rule, endpoint, login_required(view), methods=methods)


def _load(project_id: int) -> Project:
    with database().session_scope() as session:
        project = session.get(Project, project_id)
        if project is None:
            abort(404)
        return project


def _server_platform() -> str:
    """The default platform of new projects on this server (`pavilion serve --platform`, PAVILION_PLATFORM)."""
    return str(current_app.config.get("PLATFORM") or "local")


def _project_form(formdata: dict[str, Any] | None = None) -> ProjectForm:
    if formdata is not None and request.method == "GET":
        form = ProjectForm(data=formdata)
    else:  # a post without a platform (a scripted one) gets the server's, as the JSON API does
        form = ProjectForm(data={"platform": _server_platform()})
    form.set_choices(sorted(POLICIES), sorted(platforms.PLATFORMS))
    return form


def _spec(form: ProjectForm) -> ProjectSpec | None:
    """The validated project, or None with the message attached to the field it names."""
    try:
        return parse_project(form_to_data(form), _server_platform())
    except BadInput as error:
        getattr(form, field_for(str(error))).errors.append(str(error))
        return None


def index() -> ResponseReturnValue:
    return redirect(url_for("admin.projects"))


def projects() -> ResponseReturnValue:
    with database().session_scope() as session:
        rows = queries.project_rows(session)
    return render_template("admin/projects.html", rows=rows, page_title="Projects")


def new_project() -> ResponseReturnValue:
    form = _project_form({**NEW_PROJECT, "platform": _server_platform()})
    if form.validate_on_submit() and (spec := _spec(form)) is not None:
        project_id = service().create_project(spec, owner_id=int(current_user.get_id()))
        flash(f"Project “{spec.name}” created.", "success")
        return redirect(url_for("admin.project", project_id=project_id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/project_form.html", form=form, page_title="New project",
                           cancel_url=url_for("admin.projects")), status


def edit_project(project_id: int) -> ResponseReturnValue:
    project = _load(project_id)
    if project.status != "draft":
        flash("Only a draft project can be edited; this one has been launched.", "error")
        return redirect(url_for("admin.project", project_id=project_id))
    form = _project_form(project_to_formdata(project))
    if form.validate_on_submit() and (spec := _spec(form)) is not None:
        try:
            service().update_draft(project_id, spec)
            flash("Project saved.", "success")
        except Conflict:
            flash("The project was launched meanwhile; nothing was changed.", "error")
        return redirect(url_for("admin.project", project_id=project_id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/project_form.html", form=form, page_title=f"Edit {project.name}",
                           cancel_url=url_for("admin.project", project_id=project_id)), status


def project_page(project_id: int) -> ResponseReturnValue:
    with database().session_scope() as session:
        project = session.get(Project, project_id)
        if project is None:
            abort(404)
        snap = snapshot(session, project)
        events = list(reversed(queries.recent_events(session, project_id)))
        who = queries.present_workers(session, project_id)
        presence = dashboard_presence(session, project_id, who)
        calls = queries.troubled_calls(session, project_id)
        latency = ready_latency(session, project_id)
    join_url = _join_link(project_id) if project.platform_name == "local" else ""
    roster_links = getattr(service().platform_view(project_id)[0], "roster_links", None)
    roster = roster_links(project_id, join_url) if join_url and roster_links is not None else {}
    return render_template(
        "admin/project.html", project=project, snapshot=snap, counts=snap["counts"], events=events, who=who,
        calls=calls, join_url=join_url, roster=roster, presence=presence, action_form=ActionForm(),
        migrate_form=MigrateForm(), latency=latency,
        socketio_js=_url_or_empty("worker.static", filename="vendor/socket.io.min.js"), page_title=project.name,
    )


def _join_link(project_id: int) -> str:
    """The local platform's join link, absolute (to hand out): on PUBLIC_URL when set, else on this request's host."""
    public = str(current_app.config.get("PUBLIC_URL", "")).rstrip("/")
    path = _url_or_empty("worker.join", project_id=project_id)
    if not path:
        return ""
    return public + path if public else url_for("worker.join", project_id=project_id, _external=True)


def _url_or_empty(endpoint: str, **values: Any) -> str:
    """A URL of the worker pages, or '' in an app built without them (the dashboard then just does not go live)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return ""


def _button(project_id: int, run: Callable[[], Any], done: str) -> ResponseReturnValue:
    """A launch / stop / expire button: check its CSRF token, then run the request."""
    if not ActionForm().validate_on_submit():
        abort(400)
    return _act(project_id, run, done)


def _act(project_id: int, run: Callable[[], Any], done: str) -> ResponseReturnValue:
    """Run a service request; its refusal becomes a flash message, never a crash."""
    try:
        run()
        flash(done, "success")
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(str(error), "error")
    return redirect(url_for("admin.project", project_id=project_id))


def launch(project_id: int) -> ResponseReturnValue:
    """Launch, run the hire calls now (the outbox's per-project lock waits for a background run of the same rows),
    then say what happened: the join link to share, the HIT or study posted, or the platform's error."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service().launch(project_id)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.project", project_id=project_id))
    service().outbox.run(project_id)
    with database().session_scope() as session:
        message, category = launch_report(session, session.get_one(Project, project_id))
    flash(message, category)
    return redirect(url_for("admin.project", project_id=project_id))


def stop(project_id: int) -> ResponseReturnValue:
    return _button(project_id, lambda: service().stop(project_id), "Stopped: every worker's page submits now.")


def expire(project_id: int) -> ResponseReturnValue:
    return _button(project_id, lambda: service().expire(project_id), "Recruitment expired; workers present stay.")


def migrate(project_id: int) -> ResponseReturnValue:
    form = MigrateForm()
    if not form.validate_on_submit():
        flash("Choose a waiting worker to migrate.", "error")
        return redirect(url_for("admin.project", project_id=project_id))
    worker, force = form.worker_id.data or "", bool(form.force.data)
    return _act(project_id, lambda: service().migrate(project_id, worker, force), f"Worker {worker} migrated.")


def ledger(project_id: int) -> ResponseReturnValue:
    project = _load(project_id)
    with database().session_scope() as session:
        book = queries.ledger(session, project_id)
    return render_template("admin/ledger.html", project=project, rows=book.rows, totals=book.totals,
                           page_title=f"Ledger · {project.name}")


def _csv(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def events_csv(project_id: int) -> ResponseReturnValue:
    _load(project_id)
    with database().session_scope() as session:
        text = event_csv(session, project_id)  # the runtime's one writer of the shared event-log schema
    return _csv(text, f"project-{project_id}-events.csv")


def assignments_csv(project_id: int) -> ResponseReturnValue:
    project = _load(project_id)
    with database().session_scope() as session:
        text = assignments_text(session, project)  # the API's export too (columns in pavilion.runtime.exports)
    return _csv(text, f"project-{project_id}-assignments.csv")


def ledger_csv(project_id: int) -> ResponseReturnValue:
    _load(project_id)
    with database().session_scope() as session:
        text = ledger_text(session, project_id)
    return _csv(text, f"project-{project_id}-ledger.csv")
