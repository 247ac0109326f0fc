"""A whole session through `pavilion serve --platform mturk` and `pavilion emulate mturk`, run from the admin pages.

Accept, join, wait, promote, submit, return, abandon, a server restart in the middle, expire, stop, pay; the
emulator duplicates and reorders every notification. Checked from MTurk's side with boto3 (what was approved and
bonused) and from the server's ledger: everyone who submitted is paid once, nobody else is paid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from .admin import AdminBrowser
from .conftest import Process, free_port, start
from .workers import SimWorker

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

PROJECT_FORM = {
    "name": "e2e on MTurk", "description": "A live task", "policy": "pavilion", "min_active": 1, "max_active": 2,
    "min_waiting": 1, "max_waiting": 1, "platform": "mturk", "platform_settings": '{"assignment_duration_s": 600}',
    "reward": "0.50", "waiting_wage_per_hour": "36", "active_wage_per_hour": "72", "task_url": "", "max_waiting_s": 0,
}


def eventually(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "pavilion.cli", *args], env=env, input=stdin, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_whole_session_through_serve(tmp_path: Path, base_env: dict[str, str], moto_url: str) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_url, aws_access_key_id="e2e",
                       aws_secret_access_key="e2e")
    queue_url = sqs.create_queue(QueueName="mturk-e2e")["QueueUrl"]
    emu_port, port = free_port(), free_port()
    emu = start(["emulate", "mturk", "--port", str(emu_port), "--sqs-endpoint", moto_url, "--duplicate", "1",
                 "--reorder", "0.5"], base_env, f"http://127.0.0.1:{emu_port}", tmp_path / "emulator.log")
    server_url = f"http://127.0.0.1:{port}"
    env = {**base_env, "PAVILION_DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}",
           "PAVILION_INSTANCE_PATH": str(tmp_path / "instance"), "PAVILION_SECRET_KEY": "e2e-not-a-secret",
           "PAVILION_PUBLIC_URL": server_url, "PAVILION_RECONCILE_S": "1", "PAVILION_OUTBOX_RETRY_S": "1",
           "PAVILION_ABANDON_GRACE_S": "8"}
    serve_args = ["serve", "--port", str(port), "--platform", "mturk", "--mturk-endpoint", emu.url,
                  "--mturk-sqs-queue-url", queue_url, "--mturk-sqs-endpoint", moto_url]
    cli(env, "admin", "create-user", "alice", "--password-stdin", stdin="correct horse battery\n")
    token = cli(env, "admin", "create-token", "alice").splitlines()[-1]
    server: Process | None = start(serve_args, env, server_url, tmp_path / "serve.log", "/login")
    workers: list[SimWorker] = []
    try:
        admin = AdminBrowser(server_url)
        admin.login("alice", "correct horse battery")
        pid = admin.new_project(PROJECT_FORM)
        admin.press(pid, "launch")
        api = httpx.Client(base_url=f"{server_url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=20)
        mturk = boto3.client("mturk", region_name="us-east-1", endpoint_url=emu.url, aws_access_key_id="e2e",
                             aws_secret_access_key="e2e")

        def project_hits() -> list[str]:
            return [h["HITId"] for h in mturk.list_hits(MaxResults=100)["HITs"]]

        eventually(lambda: sum(mturk.get_hit(HITId=h)["HIT"]["MaxAssignments"] for h in project_hits()) == 3,
                   "Hire(3) on MTurk")

        def snapshot() -> dict[str, Any]:
            return dict(api.get(f"/projects/{pid}").json())

        def worker(name: str) -> SimWorker:
            w = SimWorker(name, emu.url, server_url)
            workers.append(w)
            w.accept(project_hits())
            return w

        w1, w2 = worker("AW1"), worker("AW2")
        w1.wait_for("promoted")  # the job starts with the oldest
        w3 = worker("AW3")
        w2.wait_for("promoted")  # balance: two waiting > min_waiting
        time.sleep(1.0)  # earn a few cents of waiting and active pay
        w1.submit()  # an active worker submits: one more HIT is posted
        eventually(lambda: len(project_hits()) == 2, "the replacement HIT")
        w3.return_hit()
        w4 = worker("AW4")
        eventually(lambda: snapshot()["counts"]["present"] == 2, "AW2 and AW4 present")
        # A restart in the middle: the pages reconnect and nobody is lost.
        before = snapshot()
        server.stop()
        server = start(serve_args, env, server_url, tmp_path / "serve.log", "/login")
        for w in (w2, w4):
            eventually(lambda w=w: "/worker" in w.client.namespaces, f"{w.name} reconnects ({w.events[-3:]})")
        after = snapshot()
        assert (after["waiting"], after["active"]) == (before["waiting"], before["active"])
        w5 = worker("AW5")
        w5.abandon()
        # Seen by the presence sweep (abandoned) or by reconciliation, which cannot tell an abandonment forced
        # before the deadline (the emulator's shortcut) from a return: either way one departure.
        eventually(lambda: (c := snapshot()["counts"])["abandoned"] + c["returned"] == 2, "AW5 gone", timeout=40)
        admin.press(pid, "expire")  # the admin's login survived the restart (same secret key)
        eventually(lambda: all(mturk.get_hit(HITId=h)["HIT"]["NumberOfAssignmentsAvailable"] == 0
                               for h in project_hits()), "every HIT expired")
        admin.press(pid, "stop")
        for w in (w2, w4):
            w.wait_for("stop")
            w.post_form()  # the page posts MTurk's form by itself; the server sees the submission from MTurk
        final = eventually(lambda: (s := snapshot())["counts"]["submitted"] == 3 and s, "three submissions")
        assert final["counts"]["returned"] + final["counts"]["abandoned"] == 2 and final["counts"]["present"] == 0

        db = create_engine(f"sqlite:///{tmp_path / 'pavilion.sqlite'}")

        def ledger() -> list[tuple[str, str, int, str]]:
            with db.connect() as c:
                return [tuple(r) for r in c.execute(text(
                    "SELECT w.platform_worker_id, p.kind, p.amount_cents, p.status FROM payments p "
                    "JOIN assignments a ON a.id = p.assignment_id JOIN workers w ON w.id = a.worker_id"))]

        eventually(lambda: ledger() and all(row[3] == "paid" for row in ledger()), "every ledger line paid", 40)
        lines = ledger()
        assert {w for w, kind, _, _ in lines if kind == "reward"} == {"AW1", "AW2", "AW4"}
        approved = {a["WorkerId"] for h in project_hits() for a in mturk.list_assignments_for_hit(
            HITId=h, AssignmentStatuses=["Approved"])["Assignments"]}
        assert approved == {"AW1", "AW2", "AW4"}
        bonuses = sorted((b["WorkerId"], b["BonusAmount"]) for h in project_hits()
                         for b in mturk.list_bonus_payments(HITId=h)["BonusPayments"])
        assert bonuses == sorted((w, f"{cents / 100:.2f}") for w, kind, cents, _ in lines if kind != "reward")
        db.dispose()
        fees = sum(max(1, (cents * 20 + 50) // 100) for _, _, cents, _ in lines)  # 20%, half-up, one cent minimum
        assert f"${fees / 100:.2f}" in admin.ledger(pid)  # the payments page shows MTurk's fees
    finally:
        for w in workers:
            w.close()
        if server is not None:
            server.stop()
        emu.stop()
