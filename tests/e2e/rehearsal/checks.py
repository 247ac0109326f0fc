"""What every rehearsal test holds the server to: its log and counts match the driver's own record."""

from __future__ import annotations

from pavilion.rehearsal.driver import Replication
from pavilion.rehearsal.livelog import departures, read


def assert_matches_the_driver(rep: Replication, unanswered_ok: bool = False) -> None:
    """Every worker the driver seated is one stint on the server, each left once, and each submitter is paid.

    A page load the server died in the middle of (chaos) may have joined a worker the driver never saw: with
    `unanswered_ok` those are the only extra stints allowed, and each is an abandonment."""
    mine, logged = rep.record.tally(), departures(read(rep.events_csv))
    seen = f"driver {mine}, log {logged}, server {rep.counts}, errors {rep.record.errors()}"
    assert mine["page_errors"] == 0 and mine["unfinished"] == 0, rep.record.errors()
    assert logged["left_twice"] == 0, seen  # one departure per stint, whatever reported it
    seated = mine["joined"] + mine["rejected"]
    extra = rep.counts["joined"] - seated
    assert rep.counts["joined"] == logged["joined"], seen
    assert 0 <= extra <= (mine["unanswered"] if unanswered_ok else 0), seen
    assert mine["submitted"] == logged["submitted"] == rep.counts["paid"], seen  # nobody lost or paid twice
    assert mine["returned"] == logged["returned"], seen
    # A ghost still unseen when the job ended is not in the log; an unanswered page's stint is abandoned.
    assert logged["abandoned"] <= mine["abandoned"] + extra, seen
