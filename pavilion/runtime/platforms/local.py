"""The local platform: a join link for lab sessions and demos; hire(n) opens n places behind it.

Without a roster, the join link mints a new random worker id for every visitor. With a roster, each id joins with
its own secret code (`?worker=ID&code=CODE`, from `roster_links`): an HMAC of the project and the id under the
server's SECRET_KEY, so knowing a colleague's roster id is not enough to join (or to act) as them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pavilion.runtime.platforms.base import (
    Departure,
    Identity,
    IdentityError,
    PaymentOrder,
    PlatformAssignment,
    PlatformProject,
    Preview,
    SubmitForm,
)

WORKER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
CODE_SALT = b"pavilion.roster-code.v1"
CODE_CHARS = 16  # 64 bits: far beyond guessing through a rate-limited page
_APPLIED_KEYS_KEPT = 1000  # idempotency memory; a lab session never has this many outstanding hires


class TurnedAway(IdentityError):
    """A joiner the session cannot take (`reason`: closed | full); the runtime logs it as `rejected`."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class LocalPlatform:
    """Places are a counter in the project's platform state; payments are recorded as paid (it is a lab)."""

    name = "local"

    def __init__(self, settings: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        self.settings = self.validate_settings(settings)
        self._secret = str(config.get("SECRET_KEY") or "")

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Accepted keys: `roster` (list of lab ids allowed to join), `done_url` (where the page goes at the end)."""
        unknown = set(settings) - {"name", "roster", "done_url"}
        if unknown:
            raise ValueError(f"platform.{sorted(unknown)[0]} is not a local platform setting")
        out: dict[str, Any] = {}
        roster = settings.get("roster")
        if roster is not None:
            if not isinstance(roster, list) or not all(isinstance(w, str) and WORKER_ID.match(w) for w in roster):
                raise ValueError("platform.roster must be a list of ids (letters, digits, _ . -; up to 64)")
            out["roster"] = list(roster)
        done_url = settings.get("done_url")
        if done_url is not None:
            if not isinstance(done_url, str) or not done_url.startswith(("http://", "https://", "/")):
                raise ValueError("platform.done_url must be an http(s) URL or a path")
            out["done_url"] = done_url
        return out

    def _applied(self, state: Mapping[str, Any], key: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        keys = list(state.get("keys", []))
        if key in keys:
            return None  # a retry of an action already applied
        keys = (keys + [key])[-_APPLIED_KEYS_KEPT:]
        return {**state, **changes, "keys": keys}

    def hire(self, project: PlatformProject, count: int, key: str) -> dict[str, Any] | None:
        return self._applied(project.state, key, {"hired": int(project.state.get("hired", 0)) + count})

    def expire(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        return self._applied(project.state, key, {"closed": True})

    def stop(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        return self._applied(project.state, key, {"closed": True})

    def open_places(self, project: PlatformProject) -> int:
        """Places hired and not taken; returned and abandoned places re-open (they are not occupied)."""
        if project.state.get("closed"):
            return 0
        return max(0, int(project.state.get("hired", 0)) - project.occupied)

    def roster_code(self, project_id: int, worker: str) -> str:
        """The secret code of one roster id in one project (derived, never stored)."""
        if not self._secret:
            raise IdentityError("this lab session needs the server's SECRET_KEY for its roster codes")
        message = f"{project_id}:{worker}".encode()
        digest = hmac.new(self._secret.encode() + CODE_SALT, message, hashlib.sha256).hexdigest()
        return digest[:CODE_CHARS]

    def roster_links(self, project_id: int, join_url: str) -> dict[str, str]:
        """Each roster id's personal join link (for the researcher to hand out, one per person)."""
        return {w: f"{join_url}?worker={w}&code={self.roster_code(project_id, w)}"
                for w in self.settings.get("roster", [])}

    def identify(self, project: PlatformProject, args: Mapping[str, str]) -> Identity | Preview:
        worker = args.get("worker", "")
        roster = self.settings.get("roster")
        if worker:
            if not WORKER_ID.match(worker):
                raise IdentityError("the worker id may hold only letters, digits, _ . - (up to 64)", status=400)
            if roster is not None:
                if worker not in roster:
                    raise IdentityError(f"worker id {worker!r} is not on this session's roster")
                code = args.get("code", "")
                if not hmac.compare_digest(code.encode(), self.roster_code(project.id, worker).encode()):
                    raise IdentityError("this roster link lacks its code or the code is wrong: use your own link")
        elif roster is not None:
            raise IdentityError("this session needs your lab id: open your own link (?worker=YOUR_ID&code=...)")
        else:
            worker = "L" + secrets.token_hex(6)
        self._check_open(project)
        # One id per worker: a reload is the same assignment (the service refuses a second one for a present worker).
        return Identity(worker_id=worker, assignment_id="local-" + worker)

    def _check_open(self, project: PlatformProject) -> None:
        if project.state.get("closed") or project.status in ("stopped", "expired"):
            raise TurnedAway("recruitment for this session is closed", "closed")
        if self.open_places(project) <= 0:
            raise TurnedAway("no open place right now; please try again in a moment", "full")

    def admit(self, project: PlatformProject, identity: Identity) -> None:
        self._check_open(project)

    def submit_target(self, project: PlatformProject, assignment: PlatformAssignment) -> SubmitForm | None:
        done_url = self.settings.get("done_url")
        return SubmitForm(url=done_url, method="GET") if done_url else None

    def reconcile(self, project: PlatformProject, present: Sequence[PlatformAssignment]) -> list[Departure]:
        return []  # in the lab, departures come from the worker protocol only

    def pay(self, project: PlatformProject, order: PaymentOrder) -> str:
        return f"local:{order.key}"

    def fee(self, amount: Decimal) -> Decimal:
        return Decimal("0.00")
