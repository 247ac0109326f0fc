"""Reconciliation: find departures MTurk never notified, from GetHIT and ListAssignmentsForHIT."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Present:
    """A worker we believe is still on the task: our key and MTurk's ids for them."""

    key: str
    assignment_id: str
    worker_id: str
    hit_id: str
    joined_at: datetime


@dataclass(frozen=True)
class Found:
    key: str
    how: str  # submitted | returned | abandoned


def submitted_by_hit(client: Any, hit_ids: Iterable[str]) -> dict[str, set[tuple[str, str]]]:
    """(assignment id, worker id) of every submitted, approved or rejected assignment, per HIT."""
    out: dict[str, set[tuple[str, str]]] = {}
    for hit_id in hit_ids:
        pages = client.get_paginator("list_assignments_for_hit").paginate(
            HITId=hit_id, PaginationConfig={"PageSize": 100}
        )
        out[hit_id] = {(a["AssignmentId"], a["WorkerId"]) for p in pages for a in p["Assignments"]}
    return out


def departures(
    present: list[Present],
    hits: Mapping[str, Mapping[str, Any]],
    submitted: Mapping[str, set[tuple[str, str]]],
    now: datetime,
) -> list[Found]:
    """Departures that the platform's records prove, and only those.

    - listed as submitted for that very worker: submitted;
    - past the HIT's assignment deadline (counted from our join time, which is after MTurk's accept): abandoned;
    - the assignment id listed for *another* worker: MTurk gave the freed id away, so ours returned or abandoned;
    - a HIT with no pending assignment: nobody of ours is still working on it.
    Anything less certain (some of our workers left a HIT that still has pending work) is left to the worker
    protocol's presence timeout, which will see it.
    """
    found: list[Found] = []
    for p in present:
        hit = hits.get(p.hit_id)
        if hit is None:
            continue
        done = submitted.get(p.hit_id, set())
        duration = float(hit["AssignmentDurationInSeconds"])
        past_deadline = (now - p.joined_at).total_seconds() >= duration
        if (p.assignment_id, p.worker_id) in done:
            found.append(Found(p.key, "submitted"))
        elif past_deadline:
            found.append(Found(p.key, "abandoned"))
        elif any(a == p.assignment_id for a, _ in done) or int(hit["NumberOfAssignmentsPending"]) == 0:
            found.append(Found(p.key, "returned"))
    return found


def reconcile(client: Any, present: list[Present], now: datetime) -> list[Found]:
    """Ask MTurk about every HIT our present workers hold and return the departures it proves."""
    hit_ids = sorted({p.hit_id for p in present})
    hits = {h: client.get_hit(HITId=h)["HIT"] for h in hit_ids}
    return departures(present, hits, submitted_by_hit(client, hit_ids), now)
