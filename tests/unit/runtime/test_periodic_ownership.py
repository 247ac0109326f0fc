"""The background loop runs a job only where it is owned; a job just taken over waits one interval; audit lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pavilion.runtime.context import Runtime
from pavilion.runtime.jobs import JobLog


class Scripted:
    """An owner whose answers the test gives, one per claim."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    def claim(self, name: str) -> str:
        return self.answers[name].pop(0)

    def close(self) -> None:
        return None


def _runtime(owners: Any, log: Path) -> tuple[Runtime, list[str], list[str]]:
    runtime = Runtime({}, None, None, None, None, None)  # type: ignore[arg-type]
    ran: list[str] = []
    claimed: list[str] = []
    runtime.owners = owners
    runtime.job_log = JobLog(str(log))
    runtime.on_claim["outbox"] = lambda: claimed.append("outbox")
    runtime.add_periodic("outbox", 10.0, lambda: ran.append("outbox"))
    runtime.add_periodic("presence-flush", 10.0, lambda: ran.append("presence-flush"))  # every process's own
    return runtime, ran, claimed


def test_runs_follow_the_claims(tmp_path: Path) -> None:
    owners = Scripted({"outbox": ["other", "new", "owner", "other"]})
    runtime, ran, claimed = _runtime(owners, tmp_path / "jobs.log")
    for t in (0.0, 10.0, 20.0, 30.0):
        runtime.run_due(now=t)
    # other: skipped; new: taken over (recovery hook) but first run one interval later; owner: run; other: skipped.
    assert ran.count("outbox") == 1 and claimed == ["outbox"] and ran.count("presence-flush") == 4
    lines = (tmp_path / "jobs.log").read_text().splitlines()
    assert [line.split()[1] for line in lines].count("outbox") == 1 and len(lines) == 5
    assert all(len(line.split()) == 3 for line in lines)


def test_not_due_is_not_claimed(tmp_path: Path) -> None:
    owners = Scripted({"outbox": ["owner"]})
    runtime, ran, _ = _runtime(owners, tmp_path / "jobs.log")
    runtime.run_due(now=0.0)
    runtime.run_due(now=5.0)  # not due: no claim asked (the script would run out)
    assert ran.count("outbox") == 1
