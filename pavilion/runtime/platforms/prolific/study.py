"""The study on Prolific: its draft (URL parameters, pence, generous time, researcher codes) and places."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pavilion.runtime.platforms.base import PlatformError, PlatformProject
from pavilion.runtime.platforms.prolific.client import ProlificClient, ProlificError

URL_PARAMETERS = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
MAX_MINUTES = 24 * 60 - 1  # Prolific's maximum allowed time is always under 24 hours


def least_maximum_minutes(estimate: int) -> int:
    """Prolific's floor for the maximum allowed time: 2 + X + 2*sqrt(X) minutes for an estimate of X."""
    return math.ceil(2 + estimate + 2 * math.sqrt(estimate))


def generous_maximum_minutes(estimate: int) -> int:
    """Time in our waiting room counts toward Prolific's limit, so allow three times the task plus an hour."""
    return min(MAX_MINUTES, max(least_maximum_minutes(estimate), 3 * estimate + 60))


def reward_pence(pay: Mapping[str, Any]) -> int:
    """The study reward in pence/cents from the project's decimal reward (Prolific takes an integer)."""
    try:
        reward = Decimal(str(pay.get("reward", "0")))
    except InvalidOperation:
        raise PlatformError(f"pay.reward must be a number, got {pay.get('reward')!r}", transient=False) from None
    pence = reward * 100
    if pence <= 0 or pence != pence.to_integral_value():
        raise PlatformError(f"Prolific needs a positive reward in whole pence/cents, got {reward}", transient=False)
    return int(pence)


def completion_codes(researcher_code: str, participant_code: str) -> list[dict[str, Any]]:
    """The researcher code the server completes with (then approval in bulk) and a participant fallback code."""
    review = [{"action": "MANUALLY_REVIEW"}]
    return [
        {"code": researcher_code, "code_type": "COMPLETED", "actor": "researcher", "actions": review},
        {"code": participant_code, "code_type": "COMPLETED", "actor": "participant", "actions": review},
    ]


def task_url(project: PlatformProject) -> str:
    """Our task page with Prolific's three placeholders; Prolific checks the URL when the study is created."""
    if not project.public_url.startswith(("http://", "https://")):
        raise PlatformError("set PAVILION_PUBLIC_URL: Prolific needs the public URL of the task", transient=False)
    return f"{project.public_url.rstrip('/')}/task/{project.id}?{URL_PARAMETERS}"


def internal_name(project: PlatformProject, key: str) -> str:
    """Unique per launch, so a retried launch finds the study it already created instead of making another."""
    return f"pavilion-{project.id}-{key}"


def draft(project: PlatformProject, settings: Mapping[str, Any], places: int, key: str) -> dict[str, Any]:
    """The POST /studies/ body for a project's first `places` places."""
    estimate = int(settings["estimated_minutes"])
    return {
        "name": str(project.task.get("title") or project.name),
        "internal_name": internal_name(project, key),
        "description": str(project.task.get("description") or project.name),
        "external_study_url": task_url(project),
        "prolific_id_option": "url_parameters",
        "completion_codes": completion_codes(settings["completion_code"], settings["participant_code"]),
        "total_available_places": places,
        "estimated_completion_time": estimate,
        "maximum_allowed_time": int(settings.get("maximum_minutes") or generous_maximum_minutes(estimate)),
        "reward": reward_pence(project.pay),
        "device_compatibility": list(settings["device_compatibility"]),
        "filters": list(settings["filters"]),
        "submissions_config": {"max_submissions_per_participant": 1},
    }


def find_or_create(client: ProlificClient, project: PlatformProject, body: dict[str, Any]) -> dict[str, Any]:
    """The study this launch created before a crash, else a new draft."""
    listed = client.call("GET", "studies/", retry=True)
    for study in listed.get("results", []) if isinstance(listed, dict) else []:
        if study.get("internal_name") == body["internal_name"]:
            return dict(study)
    created: dict[str, Any] = client.call("POST", "studies/", body)
    return created


_DONE = {
    "PUBLISH": {"ACTIVE", "AWAITING REVIEW"},
    "PAUSE": {"PAUSED"},
    "START": {"ACTIVE", "AWAITING REVIEW"},
    "STOP": {"AWAITING REVIEW", "COMPLETED"},
}


def transition(client: ProlificClient, study_id: str, action: str) -> dict[str, Any]:
    """A study transition. A refusal may mean a lost answer already applied it, so the status is re-read."""
    try:
        result: dict[str, Any] = client.call("POST", f"studies/{study_id}/transition/", {"action": action})
        return result
    except ProlificError as exc:
        if exc.transient:
            raise  # the outbox retries the whole step; the retry lands here again if it had applied
        study: dict[str, Any] = client.call("GET", f"studies/{study_id}/", retry=True)
        if study.get("status") in _DONE[action]:
            return study
        raise PlatformError(f"{exc} (study is {study.get('status')})", transient=False) from exc


def raise_places(client: ProlificClient, study_id: str, target: int, resume: bool) -> dict[str, Any]:
    """PATCH the absolute total up to `target` (never down); START a study Prolific paused when `resume`."""
    study: dict[str, Any] = client.call("GET", f"studies/{study_id}/", retry=True)
    if int(study["total_available_places"]) < target:
        study = client.call("PATCH", f"studies/{study_id}/", {"total_available_places": target}, retry=True)
    if resume and study.get("status") == "PAUSED":
        study = transition(client, study_id, "START")
    return study
