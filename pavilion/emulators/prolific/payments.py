"""Money on the emulator: two-step bonuses (the pay step pays again each time it is called) and bulk approval."""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pavilion.emulators.prolific import model as m
from pavilion.emulators.prolific.errors import ApiError
from pavilion.emulators.prolific.state import EmulatorState


def _cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_bonus_csv(text: str) -> list[tuple[str, int]]:
    """`id,amount` lines with decimal amounts in the study currency -> (id, cents); 400 on a bad line."""
    lines: list[tuple[str, int]] = []
    for number, raw in enumerate(text.strip().splitlines(), start=1):
        parts = [p.strip() for p in raw.split(",")]
        try:
            amount = Decimal(parts[1]) if len(parts) == 2 else None
        except InvalidOperation:
            amount = None
        if amount is None or not parts[0] or amount <= 0 or (amount * 100) != (amount * 100).to_integral_value():
            raise ApiError(400, {"csv_bonuses": [f"Line {number} is not `id,amount` with a positive amount: {raw!r}"]})
        lines.append((parts[0], int(amount * 100)))
    if not lines:
        raise ApiError(400, {"csv_bonuses": ["No bonuses given."]})
    return lines


def setup_bonus(state: EmulatorState, body: dict[str, Any], fee_rate: Decimal, vat_rate: Decimal) -> m.BonusBatch:
    """Step one: check every id took part in the study and price the batch (fees and VAT are Prolific's to set)."""
    study = state.study(str(body.get("study_id") or ""))
    lines = parse_bonus_csv(str(body.get("csv_bonuses") or ""))
    mine = [s for s in state.submissions.values() if s.study_id == study.id]
    resolved: list[tuple[str, int]] = []
    unknown: list[str] = []
    for ident, cents in lines:
        match = next((s for s in mine if ident in (s.id, s.participant_id)), None)
        if match is None:
            unknown.append(ident)
        else:
            resolved.append((match.id, cents))
    if unknown:
        raise ApiError(400, {"csv_bonuses": [f"These ids did not take part in the study: {', '.join(unknown)}"]})
    amount = sum(c for _, c in resolved)
    fees = _cents(Decimal(amount) * fee_rate)
    vat = _cents(Decimal(fees) * vat_rate)
    batch = m.BonusBatch(state.new_id(), study.id, resolved, amount, fees, vat, state.now())
    state.bonuses[batch.id] = batch
    return batch


def pay_bonus(state: EmulatorState, bonus_id: str) -> m.BonusBatch:
    """Step two: pays every line, again on every call (Prolific documents this call as not idempotent)."""
    state.tick()
    batch = state.bonuses.get(bonus_id)
    if batch is None:
        raise ApiError(404, "Not found.")
    batch.pay_calls += 1
    for submission_id, cents in batch.lines:
        sub = state.submissions[submission_id]
        state.payments.append(
            {"bonus_id": batch.id, "submission_id": sub.id, "participant_id": sub.participant_id, "cents": cents}
        )
        state.schedule(state.bonus_lag_s, functools.partial(sub.bonus_payments.append, cents))
    return batch


def bulk_approve(state: EmulatorState, body: dict[str, Any]) -> None:
    """Asynchronous: approves the listed submissions still awaiting review, after `approve_lag_s`."""
    state.tick()
    ids = body.get("submission_ids")
    if ids is None and body.get("study_id"):
        wanted = set(body.get("participant_ids") or [])
        study_id = body["study_id"]
        ids = [s.id for s in state.submissions.values() if s.study_id == study_id and s.participant_id in wanted]
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, {"submission_ids": ["A non-empty list of submission ids is required."]})

    def approve() -> None:
        for sid in ids:
            sub = state.submissions.get(str(sid))
            if sub is not None and sub.status == m.AWAITING_REVIEW:
                state.set_submission(sub, m.APPROVED)

    state.schedule(state.approve_lag_s, approve)


def paid_cents(state: EmulatorState, participant_id: str) -> int:
    """Everything ever credited to a participant by bonus pay calls (for tests that check nobody is paid twice)."""
    return sum(p["cents"] for p in state.payments if p["participant_id"] == participant_id)
