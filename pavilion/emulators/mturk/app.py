"""The emulator's HTTP layer: MTurk's JSON 1.1 API on POST /, the worker side under /_emu/, and externalSubmit."""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pavilion.emulators.mturk.emulator import Emulator
from pavilion.emulators.mturk.errors import MTurkError
from pavilion.emulators.mturk.notifications import Chaos
from pavilion.emulators.mturk.records import assignment_view
from pavilion.emulators.mturk.state import MTurkModel

TARGET_PREFIX = "MTurkRequesterServiceV20170117."
JSON_11 = "application/x-amz-json-1.1"
HELP = """MTurk Requester API emulator (2017-01-17).
Point boto3 at this address: boto3.client("mturk", region_name="us-east-1", endpoint_url="{url}").
Worker side: GET /_emu/hits, POST /_emu/preview|accept|return|abandon, POST /mturk/externalSubmit.
"""

URLS = Map([
    Rule("/", methods=["POST"], endpoint="api"),
    Rule("/", methods=["GET"], endpoint="help"),
    Rule("/mturk/externalSubmit", methods=["GET", "POST"], endpoint="external_submit"),
    Rule("/_emu/hits", methods=["GET"], endpoint="hits"),
    Rule("/_emu/state", methods=["GET"], endpoint="state"),
    Rule("/_emu/preview", methods=["POST"], endpoint="preview"),
    Rule("/_emu/accept", methods=["POST"], endpoint="accept"),
    Rule("/_emu/return", methods=["POST"], endpoint="return_"),
    Rule("/_emu/abandon", methods=["POST"], endpoint="abandon"),
    Rule("/_emu/tick", methods=["POST"], endpoint="tick"),
    Rule("/_emu/clock/advance", methods=["POST"], endpoint="advance"),
    Rule("/_emu/chaos", methods=["POST"], endpoint="chaos"),
    Rule("/_emu/flush", methods=["POST"], endpoint="flush"),
    Rule("/_emu/faults", methods=["POST"], endpoint="faults"),
])


def _json(data: Any, status: int = 200, content_type: str = "application/json") -> Response:
    return Response(json.dumps(data), status=status, content_type=content_type)


def _page(title: str, text: str, status: int) -> Response:
    body = f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _empty(action: Callable[[MTurkModel, dict[str, Any]], None]) -> Callable[[MTurkModel, dict[str, Any]], Any]:
    """A control action with nothing to report answers `{}`."""

    def run(m: MTurkModel, body: dict[str, Any]) -> dict[str, Any]:
        action(m, body)
        return {}

    return run


class EmulatorApp:
    """A WSGI application around one Emulator."""

    def __init__(self, emulator: Emulator, public_url: str | None = None) -> None:
        self.emulator = emulator
        self.public_url = public_url

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, _ = URLS.bind_to_environ(environ).match()
            response = getattr(self, f"on_{endpoint}")(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)  # type: ignore[no-any-return]

    def submit_to(self, request: Request) -> str:
        return (self.public_url or request.host_url).rstrip("/")

    # ---- Requester API ------------------------------------------------------------------------------------
    def on_api(self, request: Request) -> Response:
        target = request.headers.get("X-Amz-Target", "")
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-RequestId": request_id}
        now = self.emulator.clock.now()
        if not target.startswith(TARGET_PREFIX):
            error = MTurkError("", f"Unknown target {target!r}", kind="UnknownOperationException")
            return Response(json.dumps(error.body(now)), 400, headers, content_type=JSON_11)
        try:
            raw = request.get_data(as_text=True)
            params = json.loads(raw) if raw.strip() else {}
            if not isinstance(params, dict):
                raise MTurkError("", "The request body must be a JSON object.", kind="SerializationException")
            result = self.emulator.call(target[len(TARGET_PREFIX):], params)
        except json.JSONDecodeError:
            error = MTurkError("", "The request body is not valid JSON.", kind="SerializationException")
            return Response(json.dumps(error.body(now)), 400, headers, content_type=JSON_11)
        except MTurkError as exc:
            return Response(json.dumps(exc.body(self.emulator.clock.now())), exc.status, headers, content_type=JSON_11)
        return Response(json.dumps(result), 200, headers, content_type=JSON_11)

    def on_help(self, request: Request) -> Response:
        return Response(HELP.format(url=self.submit_to(request)), content_type="text/plain; charset=utf-8")

    # ---- the worker's browser --------------------------------------------------------------------------------
    def on_external_submit(self, request: Request) -> Response:
        fields = {**request.args.to_dict(), **request.form.to_dict()}
        try:
            a = self.emulator.run(lambda m: m.submit(fields))
        except MTurkError as exc:
            return _page("There was a problem submitting your results for this HIT.", exc.message, 400)
        return _page("Thank you", f"Assignment {a.assignment_id} has been submitted.", 200)

    # ---- worker-side control API ------------------------------------------------------------------------------
    def _control(self, request: Request, action: Callable[[MTurkModel, dict[str, Any]], Any]) -> Response:
        body = request.get_json(silent=True) or request.form.to_dict()
        try:
            return _json(self.emulator.run(lambda m: action(m, body)))
        except MTurkError as exc:
            return _json({"error": exc.message, "code": exc.code}, 400)
        except (KeyError, TypeError, ValueError) as exc:
            return _json({"error": f"bad request: {exc}"}, 400)

    def on_hits(self, request: Request) -> Response:
        return self._control(request, lambda m, _: [
            {"HITId": h.hit_id, "HITGroupId": h.hit_type_id, "Title": m.hit_types[h.hit_type_id].title,
             "NumberOfAssignmentsAvailable": m.counts(h)[1]} for h in m.assignable_hits()])

    def on_state(self, request: Request) -> Response:
        def dump(m: MTurkModel, _: dict[str, Any]) -> dict[str, Any]:
            return {"balance": f"{m.balance:.2f}", "on_hold": f"{m.on_hold():.2f}",
                    "hits": [m.hit_view(h) | {"Disposed": h.disposed} for h in m.hits.values()],
                    "assignments": [assignment_view(a) for a in m.assignments.values()],
                    "bonuses": len(m.bonuses), "notifications_sent": len(self.emulator.dispatcher.sent),
                    "notifications_dropped": self.emulator.dispatcher.dropped}
        return self._control(request, dump)

    def on_preview(self, request: Request) -> Response:
        return self._control(request, lambda m, b: {"url": m.preview_url(b["hit_id"], self.submit_to(request))})

    def on_accept(self, request: Request) -> Response:
        def accept(m: MTurkModel, b: dict[str, Any]) -> dict[str, Any]:
            a = m.accept(b["hit_id"], b["worker_id"])
            return {"assignment_id": a.assignment_id, "hit_id": a.hit_id, "worker_id": a.worker_id,
                    "deadline": a.deadline, "url": m.worker_url(a, self.submit_to(request))}
        return self._control(request, accept)

    def on_return_(self, request: Request) -> Response:
        return self._control(request, _empty(lambda m, b: m.return_assignment(b["assignment_id"])))

    def on_abandon(self, request: Request) -> Response:
        return self._control(request, _empty(lambda m, b: m.abandon(b["assignment_id"])))

    def on_tick(self, request: Request) -> Response:
        return self._control(request, _empty(lambda m, _: m.tick()))

    def on_advance(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            return _json({"now": self.emulator.advance(float(body["seconds"]))})
        except (KeyError, TypeError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)

    def on_chaos(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            self.emulator.set_chaos(Chaos(**body))
        except (TypeError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({})

    def on_flush(self, request: Request) -> Response:
        self.emulator.dispatcher.flush()
        return _json({})

    def on_faults(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            self.emulator.inject(body["op"], body["kind"], int(body.get("count", 1)))
        except (KeyError, TypeError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({})


def make_app(emulator: Emulator, public_url: str | None = None) -> EmulatorApp:
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise ValueError(f"public URL must start with http:// or https://, got {public_url!r}")
    return EmulatorApp(emulator, public_url)
