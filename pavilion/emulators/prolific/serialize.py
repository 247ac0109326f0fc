"""JSON views of the emulator's records, in Prolific's field names (money in cents, times in ISO 8601)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pavilion.emulators.prolific import model as m
from pavilion.emulators.prolific.clock import iso


def _when(at: float | None) -> str | None:
    return None if at is None else iso(at)


def study_json(study: m.Study, places_taken: int) -> dict[str, Any]:
    return {
        **study.fields,
        "id": study.id,
        "name": study.name,
        "internal_name": study.internal_name,
        "external_study_url": study.external_study_url,
        "completion_codes": study.completion_codes,
        "total_available_places": study.total_available_places,
        "places_taken": places_taken,
        "reward": study.reward,
        "estimated_completion_time": study.estimated_completion_time,
        "maximum_allowed_time": study.maximum_allowed_time,
        "status": study.status,
        "date_created": iso(study.created_at),
        "published_at": _when(study.published_at),
        "workspace": study.workspace_id,
    }


def submission_json(sub: m.Submission) -> dict[str, Any]:
    """GET /submissions/{id}/."""
    return {
        "id": sub.id,
        "study_id": sub.study_id,
        "participant": sub.participant_id,
        "status": sub.status,
        "started_at": _when(sub.started_at or sub.reserved_at),
        "completed_at": _when(sub.completed_at),
        "entered_code": sub.entered_code,
        "return_requested": sub.return_requested,
        "bonus_payments": list(sub.bonus_payments),
    }


def study_link(study: m.Study, sub: m.Submission) -> str:
    """The study URL as Prolific opens it for this submission: each `{{%NAME%}}` placeholder filled in."""
    url = study.external_study_url
    for name, value in (("PROLIFIC_PID", sub.participant_id), ("STUDY_ID", study.id), ("SESSION_ID", sub.id)):
        url = url.replace("{{%" + name + "%}}", quote(value, safe=""))
    return url


def submission_list_item(sub: m.Submission) -> dict[str, Any]:
    """An item of GET /submissions/?study=."""
    return {
        "id": sub.id,
        "participant_id": sub.participant_id,
        "started_at": _when(sub.started_at or sub.reserved_at),
        "status": sub.status,
        "study_code": sub.entered_code,
    }


def study_submission_item(sub: m.Submission, reward: int) -> dict[str, Any]:
    """An item of the older GET /studies/{id}/submissions/ route."""
    taken = None if sub.completed_at is None or sub.started_at is None else int(sub.completed_at - sub.started_at)
    return {
        **submission_list_item(sub),
        "participant": sub.participant_id,
        "completed_at": _when(sub.completed_at),
        "time_taken": taken,
        "reward": reward,
        "bonus_payments": list(sub.bonus_payments),
    }


def bonus_json(batch: m.BonusBatch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "study": batch.study_id,
        "amount": batch.amount,
        "fees": batch.fees,
        "vat": batch.vat,
        "total_amount": batch.total_amount,
    }
