"""Test-control routes under /_emulator/: the participant simulator, the clock, webhook switches, faults, records."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from flask import Blueprint, Response, jsonify, request

from pavilion.emulators.prolific import model as m
from pavilion.emulators.prolific import payments
from pavilion.emulators.prolific import serialize as ser
from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.delivery import DeliverySwitches
from pavilion.emulators.prolific.emulator import Fault, ProlificEmulator
from pavilion.emulators.prolific.errors import ApiError

_SETTINGS = ("processing_s", "approve_lag_s", "bonus_lag_s")
_FAULT_KEYS = {"method", "path", "status", "times", "after", "shape"}


def _json() -> dict[str, Any]:
    """The request's JSON object; an empty body is {}, anything else not an object is a 400."""
    if not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def _number(data: dict[str, Any], key: str, default: float | None = None) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ApiError(400, {key: [f"A finite number of at least 0 is required, not {value!r}."]})
    return float(value)


def _text(data: dict[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        raise ApiError(400, {key: [f"A non-empty string is required, not {value!r}."]})
    return value


def _fault(data: dict[str, Any]) -> Fault:
    unknown = sorted(set(data) - _FAULT_KEYS)
    if unknown:
        raise ApiError(400, f"Unknown fault fields {unknown}; known: {sorted(_FAULT_KEYS)}.")
    status, times = data.get("status"), data.get("times", 1)
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise ApiError(400, {"status": [f"An HTTP error status (400-599) is required, not {status!r}."]})
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ApiError(400, {"times": [f"A whole number of at least 1 is required, not {times!r}."]})
    if not isinstance(data.get("after", False), bool):
        raise ApiError(400, {"after": ["true or false is required."]})
    shape = _text(data, "shape", "error")
    if shape not in ("error", "message"):
        raise ApiError(400, {"shape": [f'"error" or "message" is required, not {shape!r}.']})
    path = _text(data, "path")
    if not path.startswith("/"):
        raise ApiError(400, {"path": [f"A path prefix starting with / is required, not {path!r}."]})
    return Fault(method=_text(data, "method", "POST").upper(), path=path, status=status, times=times,
                 after=bool(data.get("after", False)), shape=shape)


def _switches(current: DeliverySwitches, data: dict[str, Any]) -> DeliverySwitches:
    kinds = {f.name: type(getattr(current, f.name)) for f in dataclasses.fields(current)}
    unknown = sorted(set(data) - set(kinds))
    if unknown:
        raise ApiError(400, f"Unknown switches {unknown}; known: {sorted(kinds)}.")
    for key, value in data.items():
        if kinds[key] is bool and not isinstance(value, bool):
            raise ApiError(400, {key: ["true or false is required."]})
        if kinds[key] is int and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ApiError(400, {key: [f"A whole number of at least 1 is required, not {value!r}."]})
        if kinds[key] is float:
            _number(data, key)
    if not 0 <= float(data.get("drop_rate", 0)) <= 1:
        raise ApiError(400, {"drop_rate": ["A fraction between 0 and 1 is required."]})
    return dataclasses.replace(current, **data)


def control_blueprint(emu: ProlificEmulator) -> Blueprint:
    """Routes a test (or a rehearsal) uses to act as participants and to bend the platform."""
    bp = Blueprint("prolific_control", __name__, url_prefix="/_emulator")
    st = emu.state

    def view(sub: m.Submission) -> dict[str, Any]:
        """The submission as GET /submissions/{id}/ shows it, plus the study link the participant opens."""
        return {**ser.submission_json(sub), "study_url": ser.study_link(st.studies[sub.study_id], sub)}

    @bp.post("/studies/<study_id>/reserve")
    def reserve(study_id: str) -> tuple[Response, int]:
        data = _json()
        participant = _text(data, "participant_id") if data.get("participant_id") is not None else None
        with emu.lock:
            return jsonify(view(st.reserve(study_id, participant))), 201

    moves = {"start": st.start, "return": st.participant_return, "time-out": st.time_out}

    @bp.post("/submissions/<submission_id>/<move>")
    def move(submission_id: str, move: str) -> Response:
        if move not in moves and move != "complete":
            raise ApiError(404, f"Unknown participant move {move!r}; known: {sorted([*moves, 'complete'])}.")
        code = _text(_json(), "code") if move == "complete" else ""
        with emu.lock:
            sub = st.participant_complete(submission_id, code) if move == "complete" else moves[move](submission_id)
            return jsonify(view(sub))

    @bp.post("/clock/advance")
    def advance() -> Response:
        if not isinstance(emu.clock, ManualClock):
            raise ApiError(400, "The emulator runs on the system clock; start it with a manual clock to advance it.")
        now = emu.clock.advance(_number(_json(), "seconds", 0))
        with emu.lock:
            st.tick()
        return jsonify({"now": now})

    @bp.post("/hooks/switches")
    def switches() -> Response:
        data = _json()
        with emu.lock:
            emu.deliverer.switches = _switches(emu.deliverer.switches, data)
            return jsonify(dataclasses.asdict(emu.deliverer.switches))

    @bp.post("/hooks/flush")
    def flush() -> Response:
        return jsonify({"sent": emu.deliverer.flush(everything=True)})

    @bp.post("/faults")
    def add_fault() -> tuple[Response, int]:
        fault = _fault(_json())
        with emu.lock:
            emu.faults.append(fault)
        return jsonify(dataclasses.asdict(fault)), 201

    @bp.post("/settings")
    def settings() -> Response:
        data = _json()
        unknown = sorted(set(data) - set(_SETTINGS))
        if unknown:
            raise ApiError(400, f"Unknown settings {unknown}; known: {sorted(_SETTINGS)}.")
        values = {key: _number(data, key) for key in data}
        with emu.lock:
            for key, value in values.items():
                setattr(st, key, value)
            return jsonify({key: getattr(st, key) for key in _SETTINGS})

    @bp.get("/journal")
    def journal() -> Response:
        with emu.lock:
            return jsonify({"results": list(emu.journal)})

    @bp.get("/payments")
    def paid() -> Response:
        with emu.lock:
            by_participant: dict[str, int] = {}
            for row in st.payments:
                by_participant[row["participant_id"]] = payments.paid_cents(st, row["participant_id"])
            pay_calls = {b.id: b.pay_calls for b in st.bonuses.values()}
            return jsonify({"results": list(st.payments), "by_participant": by_participant, "pay_calls": pay_calls})

    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError) -> tuple[Response, int]:
        return jsonify({"error": {"status": exc.status, "detail": exc.detail}}), exc.status

    return bp
