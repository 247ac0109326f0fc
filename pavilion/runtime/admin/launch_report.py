"""What the Launch button did, said as it happened: a join link to share, the HIT or study posted, or the error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavilion.runtime.models import Outbox, Project

PLATFORM_NAMES = {"mturk": "MTurk", "prolific": "Prolific"}


def posted_as(platform: str, state: Mapping[str, Any]) -> str:
    """The platform's own ids of what was posted ('' when the adapter keeps none)."""
    hits = [str(hit) for hit in state.get("hits", []) if hit]
    if hits:
        return ("HIT " if len(hits) == 1 else "HITs ") + ", ".join(hits)
    if state.get("study_id"):
        return f"study {state['study_id']}"
    return ""


def launch_report(session: Session, project: Project) -> tuple[str, str]:
    """(message, flash category) after a launch whose hire calls have been run (or are running elsewhere)."""
    if project.platform_name == "local":
        return "Launched: share the join link below with your workers (nothing is posted anywhere).", "success"
    where = PLATFORM_NAMES.get(project.platform_name, project.platform_name)
    hires = list(session.scalars(
        select(Outbox).where(Outbox.project_id == project.id, Outbox.kind == "hire").order_by(Outbox.id)
    ))
    if not hires:
        return f"Launched, but nothing was posted on {where}: the policy hires nobody at launch.", "error"
    failed = [row for row in hires if row.status == "failed"]
    if failed:
        return f"Launched, but posting on {where} failed: {failed[0].last_error}", "error"
    retrying = [row for row in hires if row.status != "done" and row.last_error]
    if retrying:
        return (f"Launched, but posting on {where} failed and is being retried: {retrying[0].last_error}",
                "error")
    if any(row.status != "done" for row in hires):
        return f"Launched: posting on {where} is still in progress (see Platform calls below).", "success"
    ids = posted_as(project.platform_name, project.platform_state)
    return f"Launched: posted on {where} as {ids}." if ids else f"Launched: posted on {where}.", "success"
