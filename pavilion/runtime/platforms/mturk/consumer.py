"""The MTurk notification consumer: SQS messages -> PolicyService.platform_departure, one event = one departure.

MTurk's events carry no worker id and a returned assignment id is handed to the next worker, so an event is
matched to the oldest present stint holding that assignment id that joined before the event's second (MTurk stamps
events to the second; the next holder can only accept after the event, so never qualifies); a submission is
checked against GetAssignment, which does name the worker. Duplicates (same EventDocId) are dropped by the
service's processed-notification keys; reordered or lost events are caught by reconciliation.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import select

from pavilion.runtime.models import Assignment, Project, Worker
from pavilion.runtime.platforms.base import Departure
from pavilion.runtime.platforms.mturk.client import make_sqs_client, turk_code
from pavilion.runtime.platforms.mturk.notifications import PlatformEvent, drain_queue

log = logging.getLogger(__name__)
LIVE = ("live", "expired", "stopped")


def _queues(service: Any) -> set[tuple[str, str | None]]:
    """Every (queue URL, SQS endpoint) that live MTurk projects listen on."""
    config = service.config
    found: set[tuple[str, str | None]] = set()
    if config.get("MTURK_SQS_QUEUE_URL"):
        found.add((str(config["MTURK_SQS_QUEUE_URL"]), config.get("MTURK_SQS_ENDPOINT") or None))
    with service.db.session_scope() as session:
        for settings in session.scalars(
            select(Project.platform_settings).where(Project.platform_name == "mturk", Project.status.in_(LIVE))
        ):
            if settings.get("sqs_queue_url"):
                endpoint = settings.get("sqs_endpoint") or config.get("MTURK_SQS_ENDPOINT") or None
                found.add((str(settings["sqs_queue_url"]), endpoint))
    return found


def _project_of(service: Any, event: PlatformEvent) -> int | None:
    with service.db.session_scope() as session:
        for project_id, state in session.execute(
            select(Project.id, Project.platform_state).where(Project.platform_name == "mturk", Project.status.in_(LIVE))
        ).all():
            if state.get("hit_type_id") == event.hit_type_id or event.hit_id in state.get("hits", []):
                return int(project_id)
    return None


def _holders(service: Any, project_id: int, event: PlatformEvent) -> list[str]:
    """Platform worker ids of present stints holding the event's assignment id and joined by its time, oldest first."""
    with service.db.session_scope() as session:
        rows = session.execute(
            select(Worker.platform_worker_id, Assignment.joined_at)
            .join(Worker, Assignment.worker_id == Worker.id)
            .where(
                Assignment.project_id == project_id,
                Assignment.left_at.is_(None),
                Assignment.platform_assignment_id == event.assignment_id,
            )
            .order_by(Assignment.joined_at, Assignment.id)
        ).all()
    # Strictly before the stamp: a stint that joined in the event's own second might be the next holder, so such an
    # event is left to the worker protocol and reconciliation rather than risk ending the wrong stint.
    return [str(worker) for worker, joined in rows if joined < event.at]


def _submitter(service: Any, project_id: int, assignment_id: str) -> str | None:
    adapter, _ = service.platform_view(project_id)
    try:
        return str(adapter.client.get_assignment(AssignmentId=assignment_id)["Assignment"]["WorkerId"])
    except Exception as exc:  # just submitted: MTurk may not show it yet (eventual consistency)
        if turk_code(exc) != "AssignmentDoesNotExist":
            raise
        return None


def handle(service: Any, event: PlatformEvent) -> bool:
    """Feed one event to the service; True when it became a policy event."""
    if event.departure is None or not event.assignment_id:
        return False
    project_id = _project_of(service, event)
    if project_id is None:
        return False
    holders = _holders(service, project_id, event)
    worker = _submitter(service, project_id, event.assignment_id) if event.departure == "submitted" else None
    if worker is None:
        if not holders:
            return False
        worker = holders[0]
    departure = Departure(worker, event.assignment_id, event.departure, event.key)  # type: ignore[arg-type]
    return bool(service.platform_departure(project_id, departure, source="platform"))


def poll_once(service: Any, wait_s: int = 0) -> int:
    """Drain every MTurk notification queue once; returns how many events were handled."""
    handled = 0
    for queue_url, endpoint in sorted(_queues(service), key=str):
        sqs = make_sqs_client(queue_url, endpoint)
        handled += drain_queue(sqs, queue_url, lambda event: handle(service, event), wait_s=wait_s)
    return handled


def run(service: Any, stop: threading.Event, every_s: float = 2.0) -> None:
    """Poll until `stop` is set; a failing pass is logged and tried again."""
    while not stop.wait(every_s):
        try:
            poll_once(service)
        except Exception:
            log.exception("MTurk notification pass failed")
