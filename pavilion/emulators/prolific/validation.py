"""Checks Prolific makes on a new study: required fields, integer money, minutes, and the completion-code rules."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlparse

from pavilion.emulators.prolific import model as m
from pavilion.emulators.prolific.errors import ApiError

_REQUIRED = (
    "name",
    "description",
    "external_study_url",
    "prolific_id_option",
    "total_available_places",
    "estimated_completion_time",
    "reward",
)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def validate_new_study(body: dict[str, Any]) -> None:
    """Raise ApiError(400) with a field -> messages map for everything wrong with a study draft."""
    problems: dict[str, list[str]] = {}
    for key in _REQUIRED:
        if body.get(key) in (None, ""):
            problems.setdefault(key, []).append("This field is required.")
    for key in ("total_available_places", "estimated_completion_time", "reward"):
        if key in body and not _positive_int(body[key]):
            problems.setdefault(key, []).append("A positive integer is required (rewards are in pence/cents).")
    url = urlparse(str(body.get("external_study_url") or ""))
    if body.get("external_study_url") and (url.scheme not in {"http", "https"} or not url.netloc):
        problems.setdefault("external_study_url", []).append("Enter a valid URL.")
    if body.get("prolific_id_option") not in (None, "url_parameters", "question", "not_required"):
        problems.setdefault("prolific_id_option", []).append("Not a valid choice.")
    _check_times(body, problems)
    _check_codes(body.get("completion_codes"), problems)
    if problems:
        raise ApiError(400, problems)


def _least_maximum(estimate: int) -> float:
    return 2 + estimate + 2 * math.sqrt(estimate)


def _check_times(body: dict[str, Any], problems: dict[str, list[str]]) -> None:
    estimate = body.get("estimated_completion_time")
    maximum = body.get("maximum_allowed_time")
    if maximum is None:
        if isinstance(estimate, int) and _positive_int(estimate):
            body["maximum_allowed_time"] = min(24 * 60 - 1, math.ceil(_least_maximum(estimate)))
        return
    if not _positive_int(maximum):
        problems.setdefault("maximum_allowed_time", []).append("A positive integer of minutes is required.")
    elif maximum >= 24 * 60:
        problems.setdefault("maximum_allowed_time", []).append("Must be under 24 hours.")
    elif isinstance(estimate, int) and _positive_int(estimate) and maximum < _least_maximum(estimate):
        problems.setdefault("maximum_allowed_time", []).append("Must be at least 2 + X + 2*sqrt(X) for estimate X.")


def _check_codes(codes: Any, problems: dict[str, list[str]]) -> None:
    if codes is None:
        return
    if not isinstance(codes, list):
        problems.setdefault("completion_codes", []).append("Expected a list.")
        return
    screen_outs = 0
    for entry in codes:
        if not isinstance(entry, dict) or not entry.get("code") or not entry.get("code_type"):
            problems.setdefault("completion_codes", []).append("Each code needs `code` and `code_type`.")
            continue
        entry.setdefault("actor", "participant")
        if entry["actor"] not in {"participant", "researcher"}:
            problems.setdefault("completion_codes", []).append(f"Unknown actor {entry['actor']!r}.")
        names = [a.get("action") for a in entry.get("actions") or [] if isinstance(a, dict)]
        unknown = [n for n in names if n not in m.CODE_ACTIONS]
        if unknown:
            problems.setdefault("completion_codes", []).append(f"Unknown actions {unknown}.")
        if "AUTOMATICALLY_APPROVE" in names and "MANUALLY_REVIEW" in names:
            problems.setdefault("completion_codes", []).append("A code cannot both approve and review.")
        screen_outs += names.count("FIXED_SCREEN_OUT_PAYMENT")
    if screen_outs > 1:
        problems.setdefault("completion_codes", []).append("At most one fixed screen-out code per study.")
