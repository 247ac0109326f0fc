"""Hypothesis: whatever workers and the requester do, the emulator's books stay consistent with MTurk's rules."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pavilion.emulators.mturk.clock import ManualClock
from pavilion.emulators.mturk.errors import MTurkError
from pavilion.emulators.mturk.state import IN_PROGRESS, MTurkModel

QUESTION = "<ExternalQuestion><ExternalURL>https://example.org/task</ExternalURL></ExternalQuestion>"
WORKERS = [f"AW{i}" for i in range(6)]
ACTIONS = st.lists(st.tuples(st.sampled_from(["accept", "return", "submit", "approve", "reject", "bonus", "expire",
                                              "extend", "wait"]),
                             st.integers(0, 5), st.integers(0, 5)), max_size=60)


def check(model: MTurkModel, start_balance: Decimal) -> None:
    live_ids = [a.assignment_id for a in model.assignments.values()]
    assert len(live_ids) == len(set(live_ids))
    for hit in model.hits.values():
        pending, available, completed, done = model.counts(hit)
        assert min(pending, available, completed, done) >= 0
        assert pending + done + available <= hit.max_assignments
        assert not set(hit.free_ids) & set(live_ids)  # a freed id is never held twice
        status = model.status(hit)
        assert status != "Unassignable" or (available == 0 and pending > 0)
        assert status != "Assignable" or available > 0
        workers = [a.worker_id for a in model.assignments.values() if a.hit_id == hit.hit_id]
        assert len(workers) == len(set(workers))  # one assignment per worker per HIT
    assert model.on_hold() >= 0
    spent = sum((amount for _, amount in model.charges), Decimal("0"))
    assert model.balance == start_balance - spent  # money leaves only through recorded charges


@settings(max_examples=60, deadline=None)
@given(ACTIONS)
def test_books_stay_consistent(actions: list[tuple[str, int, int]]) -> None:
    clock = ManualClock()
    model = MTurkModel(clock, balance=Decimal("50.00"))
    hits = [model.call("CreateHIT", {"Title": "t", "Description": "d", "Reward": "0.75", "LifetimeInSeconds": 600,
                                     "AssignmentDurationInSeconds": 120, "AutoApprovalDelayInSeconds": 300,
                                     "MaxAssignments": n, "Question": QUESTION})["HIT"]["HITId"] for n in (2, 9)]
    for kind, i, j in actions:
        hit_id, worker = hits[i % 2], WORKERS[j]
        mine = sorted(a.assignment_id for a in model.assignments.values() if a.hit_id == hit_id)
        target = mine[j % len(mine)] if mine else "NONE"
        try:
            if kind == "accept":
                model.accept(hit_id, worker)
            elif kind == "return":
                model.return_assignment(target)
            elif kind == "submit":
                model.submit({"assignmentId": target})
            elif kind == "approve":
                model.call("ApproveAssignment", {"AssignmentId": target})
            elif kind == "reject":
                model.call("RejectAssignment", {"AssignmentId": target, "RequesterFeedback": "no"})
            elif kind == "bonus" and target in model.assignments:
                a = model.assignments[target]
                model.call("SendBonus", {"AssignmentId": target, "WorkerId": a.worker_id, "BonusAmount": "0.10",
                                         "Reason": "r", "UniqueRequestToken": f"b{i}{j}"})
            elif kind == "expire":
                model.call("UpdateExpirationForHIT", {"HITId": hit_id, "ExpireAt": 0})
            elif kind == "extend":
                model.call("CreateAdditionalAssignmentsForHIT", {"HITId": hit_id, "NumberOfAdditionalAssignments": 1})
            else:
                clock.advance(40 * (j + 1))
                model.tick()
        except MTurkError:
            pass  # refusals are part of the game; the books must be consistent either way
        check(model, Decimal("50.00"))
    clock.advance(10_000)
    model.tick()
    assert all(a.status != IN_PROGRESS for a in model.assignments.values())  # every deadline passed
    assert all(a.status != "Submitted" for a in model.assignments.values())  # auto-approval ran
    assert sum(model.counts(h)[0] for h in model.hits.values()) == 0
