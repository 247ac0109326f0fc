"""Forged MTurk task links: made-up ids on a real (public) HIT id never take a place, never act for a real worker.

A HIT id is public (it is in every preview link); assignment and worker ids are not checked by anything but MTurk.
MTurk shows an accepted, unsubmitted assignment nowhere, so the adapter counts: present stints per HIT never exceed
the pending assignments GetHIT reports, and reconciliation removes the stints beyond that count.
"""

from __future__ import annotations

import secrets
import string
from pathlib import Path

import httpx
import pytest

from pavilion.runtime.errors import ServiceError
from pavilion.runtime.platforms.base import Identity, IdentityError, PlatformError

from .session import Session, mturk_session

pytestmark = pytest.mark.timeout(90)
ALPHABET = string.ascii_uppercase + string.digits


@pytest.fixture
def queue(moto_server: str, request: pytest.FixtureRequest, aws_env: None) -> str:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_server)
    return str(sqs.create_queue(QueueName=f"forged-{abs(hash(request.node.nodeid))}")["QueueUrl"])


def made_up(n: int, prefix: str = "") -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(n - len(prefix)))


def forge(s: Session, hit_id: str, assignment_id: str, worker_id: str) -> str | None:
    """Open the task link with these ids and join; the assignment key when placed, None when refused."""
    adapter, view = s.service.platform_view(s.project_id)
    args = {"assignmentId": assignment_id, "hitId": hit_id, "workerId": worker_id, "turkSubmitTo": s.emu.url}
    try:
        identity = adapter.identify(view, args)
        assert isinstance(identity, Identity)
        joined = s.service.join(s.project_id, identity)
    except (IdentityError, ServiceError):
        return None
    return None if joined.rejected else joined.assignment_key


def placed_of(s: Session, n: int) -> int:
    """Made-up links with the project's real HIT id: how many got a place."""
    hit_id = s.service.platform_view(s.project_id)[1].state["hits"][0]
    return sum(forge(s, hit_id, made_up(30), made_up(14, "A")) is not None for _ in range(n))


def launched(s: Session) -> None:
    s.service.launch(s.project_id)
    s.sync()


def present(s: Session) -> set[str]:
    return set(s.service.present(s.project_id))


def test_made_up_ids_on_a_real_hit_are_refused_and_a_real_worker_still_gets_in(
    tmp_path: Path, queue: str, moto_server: str
) -> None:
    with mturk_session(tmp_path, queue, moto_server) as s:
        launched(s)
        s.accept("AREAL1")
        assert placed_of(s, 8) == 0  # before the fix: 5 of 8 placed
        s.accept("AREAL2")  # a real worker is not told the session is full
        assert present(s) == {s.keys["AREAL1"], s.keys["AREAL2"]}


def test_a_present_workers_id_with_another_assignment_id_is_refused(
    tmp_path: Path, queue: str, moto_server: str
) -> None:
    with mturk_session(tmp_path, queue, moto_server) as s:
        launched(s)
        s.accept("AREAL1")
        # A second real accept frees nothing for the forger: the count allows AREAL2's arrival, not a merge.
        got = httpx.post(f"{s.emu.url}/_emu/accept",
                         json={"hit_id": s.service.platform_view(s.project_id)[1].state["hits"][0],
                               "worker_id": "AREAL2"}).json()
        other = dict(httpx.URL(got["url"]).params)["assignmentId"]
        hit_id = s.service.platform_view(s.project_id)[1].state["hits"][0]
        for assignment_id in (made_up(30), other):
            assert forge(s, hit_id, assignment_id, "AREAL1") is None
        assert present(s) == {s.keys["AREAL1"]}  # the real worker is untouched, nothing merged
        s.sync(reconcile=True)
        assert present(s) == {s.keys["AREAL1"]}


def test_link_ids_must_have_mturks_formats(tmp_path: Path, queue: str, moto_server: str) -> None:
    with mturk_session(tmp_path, queue, moto_server) as s:
        launched(s)
        adapter, view = s.service.platform_view(s.project_id)
        hit_id = view.state["hits"][0]
        bad = [
            {"assignmentId": made_up(29), "hitId": hit_id, "workerId": "AW1"},
            {"assignmentId": made_up(30).lower(), "hitId": hit_id, "workerId": "AW1"},
            {"assignmentId": made_up(30), "hitId": hit_id[:-1], "workerId": "AW1"},
            {"assignmentId": made_up(30), "hitId": hit_id, "workerId": "W1"},
            {"assignmentId": made_up(30), "hitId": hit_id, "workerId": "A" + "1" * 64},
            {"assignmentId": made_up(30) + "\n", "hitId": hit_id, "workerId": "AW1"},
            {"assignmentId": "../" + made_up(27), "hitId": hit_id, "workerId": "AW1"},
            {"assignmentId": made_up(30), "hitId": hit_id},
        ]
        for args in bad:
            with pytest.raises(IdentityError) as caught:
                adapter.identify(view, args)
            assert caught.value.status == 400, args


def test_reconciliation_removes_stints_beyond_the_hits_pending_count(
    tmp_path: Path, queue: str, moto_server: str
) -> None:
    with mturk_session(tmp_path, queue, moto_server) as s:
        s.config["MTURK_SURPLUS_GRACE_S"] = 0.0
        s.restart()
        launched(s)
        s.accept("AREAL1")
        hit_id = s.service.platform_view(s.project_id)[1].state["hits"][0]
        # AREAL2 accepts on MTurk; before their page loads, a made-up link takes the place their accept counts for.
        got = httpx.post(f"{s.emu.url}/_emu/accept", json={"hit_id": hit_id, "worker_id": "AREAL2"}).json()
        fake = forge(s, hit_id, made_up(30), made_up(14, "A"))
        assert fake is not None  # the race the count cannot close; the grace bounds it
        httpx.post(f"{s.emu.url}/_emu/return", json={"assignment_id": dict(httpx.URL(got["url"]).params)[
            "assignmentId"]})
        s.sync(reconcile=True)
        assert present(s) == {s.keys["AREAL1"]}  # the fake is gone, the real worker stays


def test_an_unreachable_mturk_refuses_for_now(tmp_path: Path, queue: str, moto_server: str) -> None:
    with mturk_session(tmp_path, queue, moto_server) as s:
        launched(s)
        hit_id = s.service.platform_view(s.project_id)[1].state["hits"][0]
        s.emu.emulator.inject("GetHIT", "ServiceFault", count=10)
        with pytest.raises(PlatformError):
            adapter, view = s.service.platform_view(s.project_id)
            identity = adapter.identify(view, {"assignmentId": made_up(30), "hitId": hit_id, "workerId": "AW1"})
            assert isinstance(identity, Identity)
            s.service.join(s.project_id, identity)
        assert present(s) == set()


def test_a_submitted_assignment_id_cannot_join_again(tmp_path: Path, queue: str, moto_server: str) -> None:
    with mturk_session(tmp_path, queue, moto_server) as s:
        launched(s)
        s.accept("AREAL1")
        s.submit("AREAL1")
        s.sync(reconcile=True)
        s.accept("AREAL2")  # a pending assignment, so the count alone would let one more in
        hit_id = s.service.platform_view(s.project_id)[1].state["hits"][0]
        for worker in ("AREAL1", made_up(14, "A")):  # the submitter again, or anyone with the known id
            assert forge(s, hit_id, s.assignments["AREAL1"], worker) is None
        assert present(s) == {s.keys["AREAL2"]}


def test_a_reused_assignment_id_lets_the_next_worker_in_before_the_return_is_known(
    tmp_path: Path, queue: str, moto_server: str
) -> None:
    with mturk_session(tmp_path, queue, moto_server) as s:
        s.config["MTURK_SURPLUS_GRACE_S"] = 0.0
        s.restart()
        launched(s)
        for worker in ("AREAL1", "AREAL2", "AREAL3"):
            s.accept(worker)
        s.mturk_return("AREAL1")  # on MTurk only; the notification has not been read yet
        s.accept("AREAL5")  # handed AREAL1's freed id: AREAL1's stale stint must not count as holding it
        assert s.assignments["AREAL5"] == s.assignments["AREAL1"]
        s.service.reconcile(s.project_id)  # even without the notification, the newer holder shows AREAL1 left
        assert present(s) == {s.keys[w] for w in ("AREAL2", "AREAL3", "AREAL5")}
