"""Who of a project's present workers has a page open now ("connected") and who does not ("away", within the grace)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavilion.runtime.context import get_runtime
from pavilion.runtime.models import PresenceRow

CONNECTED, AWAY = "connected", "away"


def presence_of(session: Session, project_id: int, keys: Iterable[str], now: datetime, grace_s: float
                ) -> dict[str, str]:
    """Each key's state, judged like the abandon sweep judges (the presence table, every server process's rows):
    connected when some process holds an open socket of it and has refreshed that row within the grace (a process
    that died stops refreshing), else away. An away worker stays in the queues until the grace runs out."""
    keys = list(keys)
    if not keys:
        return {}
    since = now - timedelta(seconds=grace_s)
    rows = session.scalars(
        select(PresenceRow.assignment_key).where(
            PresenceRow.project_id == project_id, PresenceRow.sockets > 0, PresenceRow.last_seen >= since
        )
    )
    open_now = set(rows)
    return {key: CONNECTED if key in open_now else AWAY for key in keys}


def dashboard_presence(session: Session, project_id: int, keys: Iterable[str]) -> dict[str, str]:
    """`presence_of` with the running app's clock and abandon grace."""
    runtime = get_runtime()
    return presence_of(session, project_id, keys, runtime.clock(), float(runtime.config["ABANDON_GRACE_S"]))
