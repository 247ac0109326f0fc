"""Reconciliation: find departures MTurk never notified, and stints no assignment backs, from GetHIT and
ListAssignmentsForHIT."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SURPLUS_GRACE_S = 120.0  # how long a stint beyond a HIT's pending count may wait for MTurk's counters to catch up


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
    - the assignment id listed for *another* worker, or held by a newer stint of another worker: MTurk gave the
      freed id away, so ours returned or abandoned;
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
        taken_over = any(q.assignment_id == p.assignment_id and q.worker_id != p.worker_id
                         and q.joined_at > p.joined_at for q in present)
        if (p.assignment_id, p.worker_id) in done:
            found.append(Found(p.key, "submitted"))
        elif past_deadline:
            found.append(Found(p.key, "abandoned"))
        elif taken_over or any(a == p.assignment_id for a, _ in done) or int(hit["NumberOfAssignmentsPending"]) == 0:
            found.append(Found(p.key, "returned"))
    return found


def surplus(
    present: list[Present], hits: Mapping[str, Mapping[str, Any]], gone: set[str], now: datetime,
    grace_s: float = SURPLUS_GRACE_S,
) -> list[Found]:
    """Stints beyond what MTurk counts as pending on their HIT: no accepted assignment backs them.

    Every real worker holds one of the HIT's pending assignments from the moment they accept it (before our page
    loads), so more present stints than pending assignments means some hold none: links made up with a public HIT
    id, or workers who left unnoticed. Which ones MTurk cannot say (it shows no unsubmitted assignment), so the
    newest beyond the count go, once each is older than the grace."""
    found: list[Found] = []
    for hit_id, hit in hits.items():
        mine = sorted((p for p in present if p.hit_id == hit_id and p.key not in gone), key=lambda p: p.joined_at)
        extra = len(mine) - int(hit["NumberOfAssignmentsPending"])
        newest = mine[len(mine) - extra:] if extra > 0 else []
        found += [Found(p.key, "returned") for p in newest if (now - p.joined_at).total_seconds() >= grace_s]
    return found


def reconcile(client: Any, present: list[Present], now: datetime, grace_s: float = SURPLUS_GRACE_S) -> list[Found]:
    """Ask MTurk about every HIT our present workers hold and return the departures it proves."""
    hit_ids = sorted({p.hit_id for p in present})
    hits = {h: client.get_hit(HITId=h)["HIT"] for h in hit_ids}
    found = departures(present, hits, submitted_by_hit(client, hit_ids), now)
    return found + surplus(present, hits, {f.key for f in found}, now, grace_s)
