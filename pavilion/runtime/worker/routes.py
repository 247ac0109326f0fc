"""Worker HTTP routes: the local join link, the task link (identity check, join), the live page, the end page."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for

from pavilion.runtime.context import get_runtime
from pavilion.runtime.errors import ServiceError
from pavilion.runtime.platforms.base import IdentityError, PlatformError, Preview
from pavilion.runtime.platforms.local import TurnedAway
from pavilion.runtime.tokens import TokenError, WorkerClaim
from pavilion.runtime.worker.side import get_worker_side
from pavilion.runtime.worker.stint import StintError, load_stint

MAX_ARGS = 32
MAX_ARG_CHARS = 512
REJECT_REASONS = {"job_full": "the session is full", "stopped": "the session is no longer recruiting"}
UNREACHABLE = "the crowd platform cannot be reached right now; please reload this page in a minute"


class ArgsError(Exception):
    """The task link's query string is malformed or oversized."""


def message_page(title: str, message: str, status: int, state: str = "error") -> Response:
    """A plain page with one message for the worker (errors, refusals, the end of a session)."""
    sentence = message[:1].upper() + message[1:]
    html = render_template("worker/message.html", title=title, message=sentence, state=state)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def platform_args(args: Mapping[str, str]) -> dict[str, str]:
    """The task link's query parameters, bounded in number and length."""
    if len(args) > MAX_ARGS:
        raise ArgsError(f"the task link has more than {MAX_ARGS} parameters")
    for key, value in args.items():
        if len(key) > 64 or len(value) > MAX_ARG_CHARS:
            raise ArgsError(f"the task link parameter {key[:64]!r} is too long")
    return dict(args)


def join(project_id: int) -> Any:
    """The local platform's join link: a new lab identity (or the roster id given as ?worker=), then the task."""
    runtime = get_runtime()
    try:
        adapter, _view = runtime.service.platform_view(project_id)
    except ServiceError as exc:
        return message_page("No such session", str(exc), exc.status)
    if adapter.name != "local":
        return message_page("Wrong link", "this session is not a lab session: open it from its platform", 404)
    worker, code = request.args.get("worker", ""), request.args.get("code", "")
    if len(worker) > 64 or len(code) > 64:
        return message_page("Wrong link", "the worker id or code is longer than 64 characters", 400)
    if not worker:
        kept = kept_stint(project_id)
        if kept is not None:  # this browser opened the link before: its one stint, not a second identity
            return redirect(url_for("worker.live", project_id=project_id, token=kept), code=303)
        return redirect(url_for("worker.task", project_id=project_id, worker="L" + secrets.token_hex(6)), code=303)
    return redirect(url_for("worker.task", project_id=project_id, worker=worker, code=code or None), code=303)


def task(project_id: int) -> Any:
    """The task link: the platform checks the identity, the worker joins, and the page gets its token."""
    side = get_worker_side()
    service = side.runtime.service
    try:
        args = platform_args(request.args)
        adapter, view = service.platform_view(project_id)
        if view.status == "draft":
            return message_page("Not open yet", "this session has not started yet; please come back later", 409)
        identity = adapter.identify(view, args)
        if isinstance(identity, Preview):
            return render_template("worker/preview.html", task=view.task, name=view.name, pay=view.pay)
        result = service.join(project_id, identity)
    except ArgsError as exc:
        return message_page("Wrong link", str(exc), 400)
    except TurnedAway as exc:
        service.turned_away(project_id, exc.reason)  # logged as `rejected` and counted, like the policy's own
        return message_page("Cannot join", str(exc), exc.status)
    except IdentityError as exc:
        return message_page("Cannot join", str(exc), exc.status)
    except PlatformError:
        return message_page("Please try again", UNREACHABLE, 503)
    except ServiceError as exc:
        return message_page("Cannot join", str(exc), exc.status)
    if result.rejected:
        reason = REJECT_REASONS.get(result.rejected, f"the session turned you away ({result.rejected})")
        return message_page("Not needed right now", f"Sorry, {reason}. Please return this task.", 200, "rejected")
    claim = WorkerClaim(project_id, result.assignment_key, identity.worker_id)
    if not result.created and not own_stint(side, project_id, claim):
        # The link's parameters name a present stint, but this browser never got its token: a forged link, or
        # the worker's other browser. Either way no token for that stint leaves this page.
        return resume_page(project_id)
    side.presence.arrived(project_id, result.assignment_key)
    token = side.tokens.issue(claim)
    # Post/redirect/get: a reload shows the live page again without a second identity check or join.
    response = redirect(url_for("worker.live", project_id=project_id, token=token), code=303)
    set_stint_cookie(response, project_id, token, side.tokens.max_age_s)
    return response


def stint_cookie(project_id: int) -> str:
    return f"pavilion_stint_{project_id}"


def set_stint_cookie(response: Any, project_id: int, token: str, max_age_s: int) -> None:
    """The worker's own token, kept by their browser for this project's pages only: what a reload must show."""
    for path in (f"/task/{project_id}", f"/join/{project_id}"):  # the join link: the same browser, one stint
        response.set_cookie(
            stint_cookie(project_id), token, max_age=max_age_s, path=path,
            secure=request.is_secure, httponly=True, samesite="Lax",
        )


def kept_stint(project_id: int) -> str | None:
    """The token this browser keeps for the project's join link (the reload cookie, also sent to /join/<id>)."""
    token = request.cookies.get(stint_cookie(project_id))
    try:
        claim = get_worker_side().tokens.verify(token)
    except TokenError:
        return None
    return token if claim.project_id == project_id else None


def own_stint(side: Any, project_id: int, claim: WorkerClaim) -> bool:
    """Whether this browser holds the token of that very stint (its cookie from the first visit)."""
    try:
        held = side.tokens.verify(request.cookies.get(stint_cookie(project_id)))
    except TokenError:
        return False
    return bool(held == claim)


def resume_page(project_id: int) -> Response:
    """A reload without the cookie: the page looks in the browser's storage for the token (a framed page, such as
    MTurk's, gets no SameSite=Lax cookie); without one it says the place is open elsewhere."""
    html = render_template("worker/resume.html", live_url=url_for("worker.live", project_id=project_id),
                           project_id=project_id)
    response = make_response(html, 409)
    response.headers["Cache-Control"] = "no-store"
    return response


def live(project_id: int) -> Any:
    """The live page of one stint: the waiting room, then the task; its token travels in a meta tag."""
    side = get_worker_side()
    token = request.args.get("token")
    try:
        claim = side.tokens.verify(token)
        if claim.project_id != project_id:
            raise StintError("this link belongs to another session", 403)
        stint = load_stint(side.runtime, claim, with_submit=True)
    except TokenError as exc:
        return message_page("Link not valid", str(exc), 403)
    except StintError as exc:
        return message_page("Link not valid", str(exc), exc.status)
    except PlatformError:
        return message_page("Please try again", UNREACHABLE, 503)
    if stint.present:
        side.presence.arrived(project_id, stint.key)
    done_url = url_for("worker.done", project_id=project_id)
    html = render_template("worker/live.html", stint=stint, token=token, done_url=done_url)
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response


def done(project_id: int) -> Any:
    """Where the page goes when the platform has no submit form of its own (the local platform): the thank-you,
    with the amount earned when the page brings the worker's token."""
    side = get_worker_side()
    stint = None
    try:
        claim = side.tokens.verify(request.args.get("token"))
        if claim.project_id == project_id:
            stint = load_stint(side.runtime, claim)
    except (TokenError, StintError):
        pass  # an old bookmark: the plain thank-you
    html = render_template("worker/thanks.html", stint=stint)
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response


def make_routes(blueprint: Blueprint) -> None:
    """Attach the worker routes to the blueprint."""
    blueprint.add_url_rule("/join/<int:project_id>", "join", join)
    blueprint.add_url_rule("/task/<int:project_id>", "task", task)
    blueprint.add_url_rule("/task/<int:project_id>/live", "live", live)
    blueprint.add_url_rule("/task/<int:project_id>/done", "done", done)
