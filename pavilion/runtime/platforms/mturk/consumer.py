"""The MTurk notification consumer: SQS messages -> the host's platform_departure, one event = one departure.

MTurk's events carry no worker id and a returned assignment id is handed to the next worker, so an event is
matched to the oldest present stint holding that assignment id that joined before the event's second (MTurk stamps
events to the second; the next holder can only accept after the event, so never qualifies); a submission is
checked against GetAssignment, which does name the worker. Duplicates (same EventDocId) are dropped by the
host's processed-notification keys; reordered or lost events are caught by reconciliation.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

from pavilion.runtime.platforms.base import Departure, PlatformHost
from pavilion.runtime.platforms.mturk.client import make_sqs_client, turk_code
from pavilion.runtime.platforms.mturk.notifications import PlatformEvent, drain_queue

log = logging.getLogger(__name__)


def _queues(host: PlatformHost) -> set[tuple[str, str | None]]:
    """Every (queue URL, SQS endpoint) that live MTurk projects listen on."""
    config = host.config
    found: set[tuple[str, str | None]] = set()
    if config.get("MTURK_SQS_QUEUE_URL"):
        found.add((str(config["MTURK_SQS_QUEUE_URL"]), config.get("MTURK_SQS_ENDPOINT") or None))
    for project in host.platform_projects("mturk"):
        settings = project.settings
        if settings.get("sqs_queue_url"):
            endpoint = settings.get("sqs_endpoint") or config.get("MTURK_SQS_ENDPOINT") or None
            found.add((str(settings["sqs_queue_url"]), endpoint))
    return found


def project_of(host: PlatformHost, event: PlatformEvent) -> int | None:
    """The project whose HIT the event is about: a recorded HIT id, else (a HIT created but not yet recorded) a
    project of the event's HIT type that MTurk's record of the HIT names. Equal projects may share a HIT type, so the
    type alone never decides."""
    projects = host.platform_projects("mturk")
    for project in projects:
        if event.hit_id in project.state.get("hits", []):
            return project.id
    for project in projects:
        if event.hit_id and project.state.get("hit_type_id") == event.hit_type_id:
            adapter, view = host.platform_view(project.id)
            if cast(Any, adapter).owns_hit(view, event.hit_id):  # an MTurkPlatform
                return project.id
    return None


def _holders(host: PlatformHost, project_id: int, event: PlatformEvent) -> list[str]:
    """Platform worker ids of present stints holding the event's assignment id and joined by its time, oldest first."""
    stints = host.stints(project_id, event.assignment_id or "")  # handle() drops events without one
    # Strictly before the stamp: a stint that joined in the event's own second might be the next holder, so such an
    # event is left to the worker protocol and reconciliation rather than risk ending the wrong stint.
    return [worker for worker, joined in stints if joined < event.at]


def _submitter(host: PlatformHost, project_id: int, assignment_id: str) -> str | None:
    adapter, _ = host.platform_view(project_id)
    client: Any = cast(Any, adapter).client  # the MTurkPlatform's boto3 client
    try:
        return str(client.get_assignment(AssignmentId=assignment_id)["Assignment"]["WorkerId"])
    except Exception as exc:  # just submitted: MTurk may not show it yet (eventual consistency)
        if turk_code(exc) != "AssignmentDoesNotExist":
            raise
        return None


def handle(host: PlatformHost, event: PlatformEvent) -> bool:
    """Feed one event to the host; True when it became a policy event."""
    if event.departure is None or not event.assignment_id:
        return False
    project_id = project_of(host, event)
    if project_id is None:
        return False
    holders = _holders(host, project_id, event)
    worker = _submitter(host, project_id, event.assignment_id) if event.departure == "submitted" else None
    if worker is None:
        if not holders:
            return False
        worker = holders[0]
    # MTurk reports an abandonment only when the assignment's time limit ran out: that is a time-out.
    departure = Departure(
        worker, event.assignment_id, event.departure, event.key, timed_out=event.departure == "abandoned"  # type: ignore[arg-type]
    )
    return bool(host.platform_departure(project_id, departure, source="notification"))


def poll_once(host: PlatformHost, wait_s: int = 0) -> int:
    """Drain every MTurk notification queue once; returns how many events were handled."""
    handled = 0
    for queue_url, endpoint in sorted(_queues(host), key=str):
        sqs = make_sqs_client(queue_url, endpoint)
        handled += drain_queue(sqs, queue_url, lambda event: handle(host, event), wait_s=wait_s)
    return handled


def run(host: PlatformHost, stop: threading.Event, every_s: float = 2.0) -> None:
    """Poll until `stop` is set; a failing pass is logged and tried again."""
    while not stop.wait(every_s):
        try:
            poll_once(host)
        except Exception:
            log.exception("MTurk notification pass failed")
