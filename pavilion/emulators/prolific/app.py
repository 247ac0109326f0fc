"""The emulator's HTTP layer: Prolific's routes under /api/v1/, token auth, error shapes, faults, a journal."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request

from pavilion.emulators.prolific.emulator import ProlificEmulator
from pavilion.emulators.prolific.errors import ApiError, error_body, message_body
from pavilion.emulators.prolific.routes import add_routes

API = "/api/v1"


def build_app(emulator: ProlificEmulator) -> Flask:
    """A Flask app serving `emulator` (the API plus the /_emulator control routes)."""
    from pavilion.emulators.prolific.control import control_blueprint

    app = Flask("pavilion-prolific-emulator")
    app.url_map.strict_slashes = False
    app.register_blueprint(_api_blueprint(emulator))
    app.register_blueprint(control_blueprint(emulator))

    @app.before_request
    def bind() -> Response | None:
        fault = emulator.take_fault(request.method, request.path, after=False)
        return None if fault is None else _fault_response(fault.status, fault.shape)

    @app.after_request
    def record(response: Response) -> Response:
        if request.path.startswith(API):
            fault = emulator.take_fault(request.method, request.path, after=True)
            if fault is not None:
                response = _fault_response(fault.status, fault.shape)
            with emulator.lock:
                emulator.journal.append(
                    {
                        "method": request.method,
                        "path": request.path,
                        "query": request.query_string.decode(),
                        "body": request.get_json(silent=True),
                        "status": response.status_code,
                        "at": emulator.state.now(),
                    }
                )
        return response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> tuple[Response, int]:
        return jsonify(error_body(exc.status, exc.detail, exc.additional)), exc.status

    return app


def _fault_response(status: int, shape: str) -> Response:
    detail = "Too many requests, please retry later." if status == 429 else "Injected fault."
    body = message_body(status, detail) if shape == "message" else error_body(status, detail)
    response = jsonify(body)
    response.status_code = status
    return response


def _api_blueprint(emulator: ProlificEmulator) -> Blueprint:
    bp = Blueprint("prolific_api", __name__, url_prefix=API)

    @bp.before_request
    def authenticate() -> None:
        expected = f"Token {emulator.token}"
        if request.headers.get("Authorization", "") != expected:
            raise ApiError(401, "Authentication credentials were not provided or are invalid.")

    add_routes(bp, emulator)
    return bp
