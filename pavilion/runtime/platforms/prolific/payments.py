"""Paying on Prolific: the reward by completing and approving the submission; wages as two-step bonuses, once."""

from __future__ import annotations

import threading
from decimal import Decimal

from pavilion.runtime.platforms.base import PaymentOrder, PlatformError
from pavilion.runtime.platforms.prolific.client import ProlificClient, ProlificError
from pavilion.runtime.platforms.prolific.journal import BonusJournal, Entry

# Prolific: "We do not support concurrent requests" on bonuses, so one bonus call at a time per process.
_bonus_calls = threading.Lock()


def whole_cents(amount: Decimal) -> int:
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise PlatformError(f"bonus {amount} is not a whole number of cents", transient=False)
    return int(cents)


def complete(client: ProlificClient, submission_id: str, code: str) -> str:
    """Finish a submission with the researcher code (no browser redirect); returns its status afterwards."""
    sub = client.call("GET", f"submissions/{submission_id}/", retry=True)
    status = str(sub["status"])
    if status in {"ACTIVE", "TIMED-OUT"}:
        try:
            sub = client.call(
                "POST", f"submissions/{submission_id}/transition/", {"action": "COMPLETE", "completion_code": code}
            )
        except ProlificError as exc:
            if exc.transient:
                raise
            sub = client.call("GET", f"submissions/{submission_id}/", retry=True)  # completed meanwhile?
        status = str(sub["status"])
    return status


def approve(client: ProlificClient, submission_ids: list[str]) -> None:
    """Bulk approval (asynchronous on Prolific); approving an approved submission changes nothing."""
    if submission_ids:
        client.call("POST", "submissions/bulk-approve/", {"submission_ids": submission_ids}, retry=True)


def pay_reward(client: ProlificClient, submission_id: str, code: str) -> str:
    """The reward is Prolific's own: complete the submission, then approve it."""
    status = complete(client, submission_id, code)
    if status == "AWAITING REVIEW":
        approve(client, [submission_id])
    elif status not in {"APPROVED", "PROCESSING"}:
        transient = status == "RESERVED"  # the participant has not started yet
        raise PlatformError(f"Prolific submission {submission_id} is {status}: no reward to approve", transient)
    return f"approved:{submission_id}"


def pay_bonus(client: ProlificClient, journal: BonusJournal, study_id: str, order: PaymentOrder) -> str:
    """Set up (repeatable), mark sent, pay (never repeated); a lost answer is confirmed from bonus_payments."""
    cents = whole_cents(order.amount)
    if cents <= 0:
        return "nothing-to-pay"
    sub = order.assignment
    with _bonus_calls:
        entry = journal.open(order.key, study_id, sub.assignment_id, sub.worker_id, cents)
        if entry.step == "paid":
            return f"bonus:{entry.bulk_id}"
        if entry.step == "pay_sent":
            return _confirm(client, journal, entry)
        if entry.step == "new":
            entry = _set_up(client, journal, entry)
        journal.advance(entry.key, "pay_sent")
        try:
            client.call("POST", f"bulk-bonus-payments/{entry.bulk_id}/pay/")
        except ProlificError as exc:
            if exc.answered:  # Prolific refused it (429 on wallet contention, 4xx): nothing was paid
                journal.advance(entry.key, "set_up")
                raise
            raise PlatformError(
                f"{exc}; the pay step may have gone through, so it is never sent again and will be confirmed "
                "from the submission's bonus_payments",
                transient=True,
            ) from exc
        journal.advance(entry.key, "paid")
        return f"bonus:{entry.bulk_id}"


def _set_up(client: ProlificClient, journal: BonusJournal, entry: Entry) -> Entry:
    amount = Decimal(entry.amount_cents) / 100
    body = {"study_id": entry.study_id, "csv_bonuses": f"{entry.submission_id},{amount:.2f}\n"}
    batch = client.call("POST", "submissions/bonus-payments/", body, retry=True)  # an unpaid set-up is harmless
    if int(batch["amount"]) != entry.amount_cents:
        raise PlatformError(
            f"Prolific priced bonus {entry.key} at {batch['amount']} cents, not {entry.amount_cents}", transient=False
        )
    journal.advance(
        entry.key,
        "set_up",
        bulk_id=str(batch["id"]),
        fees_cents=int(batch.get("fees", 0)),
        vat_cents=int(batch.get("vat", 0)),
    )
    found = journal.get(entry.key)
    assert found is not None
    return found


def _confirm(client: ProlificClient, journal: BonusJournal, entry: Entry) -> str:
    """A pay step whose answer was lost: paid once the submission's bonus_payments cover every bonus sent."""
    sub = client.call("GET", f"submissions/{entry.submission_id}/", retry=True)
    credited = sum(int(c) for c in sub.get("bonus_payments") or [])
    sent = sum(e.amount_cents for e in journal.sent_for(entry.submission_id))
    if credited >= sent:
        journal.advance(entry.key, "paid")
        return f"bonus:{entry.bulk_id}"
    raise PlatformError(
        f"bonus {entry.key}: pay step sent to Prolific, not yet credited ({credited} of {sent} cents); "
        "never sent again - check the bonus on Prolific if this persists",
        transient=True,
    )
