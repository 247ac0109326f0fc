"""Test-control routes under /_emulator/: the participant simulator, the clock, webhook switches, faults, records."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, Response, jsonify, request

from pavilion.emulators.prolific import payments
from pavilion.emulators.prolific import serialize as ser
from pavilion.emulators.prolific.clock import ManualClock
from pavilion.emulators.prolific.emulator import Fault, ProlificEmulator
from pavilion.emulators.prolific.errors import ApiError

_SETTINGS = ("processing_s", "approve_lag_s", "bonus_lag_s")


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def control_blueprint(emu: ProlificEmulator) -> Blueprint:
    """Routes a test (or a rehearsal) uses to act as participants and to bend the platform."""
    bp = Blueprint("prolific_control", __name__, url_prefix="/_emulator")
    st = emu.state

    @bp.post("/studies/<study_id>/reserve")
    def reserve(study_id: str) -> tuple[Response, int]:
        with emu.lock:
            sub = st.reserve(study_id, _json().get("participant_id"))
            return jsonify(ser.submission_json(sub)), 201

    moves = {"start": st.start, "return": st.participant_return, "time-out": st.time_out}

    @bp.post("/submissions/<submission_id>/<move>")
    def move(submission_id: str, move: str) -> Response:
        with emu.lock:
            if move == "complete":
                sub = st.participant_complete(submission_id, str(_json().get("code") or ""))
            elif move in moves:
                sub = moves[move](submission_id)
            else:
                raise ApiError(404, f"Unknown participant move {move!r}.")
            return jsonify(ser.submission_json(sub))

    @bp.post("/clock/advance")
    def advance() -> Response:
        if not isinstance(emu.clock, ManualClock):
            raise ApiError(400, "The emulator runs on the system clock; start it with a manual clock to advance it.")
        now = emu.clock.advance(float(_json().get("seconds", 0)))
        with emu.lock:
            st.tick()
        return jsonify({"now": now})

    @bp.post("/hooks/switches")
    def switches() -> Response:
        data = _json()
        names = {f.name for f in dataclasses.fields(emu.deliverer.switches)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ApiError(400, f"Unknown switches {unknown}; known: {sorted(names)}.")
        with emu.lock:
            emu.deliverer.switches = dataclasses.replace(emu.deliverer.switches, **data)
            return jsonify(dataclasses.asdict(emu.deliverer.switches))

    @bp.post("/hooks/flush")
    def flush() -> Response:
        return jsonify({"sent": emu.deliverer.flush(everything=True)})

    @bp.post("/faults")
    def add_fault() -> tuple[Response, int]:
        data = _json()
        fault = Fault(
            method=str(data.get("method", "POST")).upper(),
            path=str(data["path"]),
            status=int(data["status"]),
            times=int(data.get("times", 1)),
            after=bool(data.get("after", False)),
            shape=str(data.get("shape", "error")),
        )
        with emu.lock:
            emu.faults.append(fault)
        return jsonify(dataclasses.asdict(fault)), 201

    @bp.post("/settings")
    def settings() -> Response:
        data = _json()
        with emu.lock:
            for key in _SETTINGS:
                if key in data:
                    setattr(st, key, float(data[key]))
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
