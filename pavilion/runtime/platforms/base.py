"""The crowd-platform port: what the policy service asks of MTurk, Prolific or the local lab link.

Adapters implement `CrowdPlatform`. The service calls them in three ways:

* from the outbox (after the policy's transaction commits), with an idempotency `key` that is the same on every
  retry of the same action: `hire`, `expire`, `stop`, `pay`. A call must be safe to repeat with the same key (the
  platform's UniqueRequestToken, a stored "already done" marker, ...). `hire`/`expire`/`stop` may return a dict
  that replaces the adapter's persistent `PlatformProject.state` (HIT ids, study id, open places); return None to
  leave it as is. Raise `PlatformError(transient=True)` to be retried later, `transient=False` to give up.
* from the worker pages: `identify` turns the platform's query parameters into an `Identity` (or a `Preview`, which
  never joins a queue), raising `IdentityError` with a message for the worker; `admit` is the last check, run under
  the project's lock just before the worker takes a queue place; `submit_target` tells the page how to submit
  itself when the worker is done or the job stops.
* from the reconciliation loop: `reconcile` receives the assignments the service believes present and returns the
  ones the platform knows have ended. Push notifications (SQS, webhooks) are fed by the adapter's own consumer
  into `PlatformHost.platform_departure`, with a unique notification key; every source is de-duplicated there.

Adapters never change queues and import nothing of the runtime outside `platforms/`: whatever else they need
(a periodic job, the stints holding a platform assignment, the database engine for their own journal, reporting a
departure) they ask of the `PlatformHost` below, which the runtime implements. An adapter instance gets it from
the optional hook `bind(host)`, called when the service builds the adapter; a class hook `init_app(app, socketio)`
gets it with `host_of(app)`. Credentials come from the app config (environment).
Optional class hooks for `pavilion serve`: `add_serve_arguments(parser)` and `settings_from_args(args) -> dict`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sqlalchemy import Engine

DepartureHow = Literal["submitted", "returned", "abandoned"]
HOST_EXTENSION = "pavilion.platform_host"  # where create_app puts the PlatformHost in `app.extensions`


class PlatformError(Exception):
    """A platform call failed; `transient` errors are retried from the outbox, others are recorded as failed."""

    def __init__(self, message: str, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class IdentityError(PlatformError):
    """The worker's platform parameters are missing, forged or not admissible; the message is shown to them.

    `status` is the HTTP status of the page: 403 (refused) by default, 400 for a malformed parameter."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message, transient=False)
        self.status = status


@dataclass(frozen=True)
class PlatformProject:
    """What an adapter sees of a project (a detached snapshot; never a database row)."""

    id: int
    name: str
    settings: Mapping[str, Any]  # non-secret settings chosen by the researcher
    state: Mapping[str, Any]  # the adapter's own persistent data (returned by hire/expire/stop)
    task: Mapping[str, Any]  # title, description, url, ...
    pay: Mapping[str, Any]  # decimal strings: reward, waiting_wage_per_hour, active_wage_per_hour
    public_url: str  # base URL of this server, for task links ("" when unknown)
    status: str = "draft"
    occupied: int = 0  # assignments holding a platform slot (present, or submitted)
    # The present stints, filled in only for `admit` (which runs under the project's lock), else empty.
    present: tuple[PlatformAssignment, ...] = ()


@dataclass(frozen=True)
class Identity:
    """A worker arriving on the task: the platform's worker id and assignment id (+ extras kept on the row)."""

    worker_id: str
    assignment_id: str
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Preview:
    """A preview visit (MTurk's ASSIGNMENT_ID_NOT_AVAILABLE): show the description only, join nothing."""

    reason: str = "preview"


@dataclass(frozen=True)
class PlatformAssignment:
    """An assignment as the adapter needs it: our key plus the platform's ids."""

    key: str
    worker_id: str
    assignment_id: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Departure:
    """The platform says this assignment ended; `key` identifies the notification for de-duplication."""

    worker_id: str
    assignment_id: str
    how: DepartureHow
    key: str
    timed_out: bool = False  # the platform's own time limit ended it: logged with source `timeout` (DESIGN.md 9)


@dataclass(frozen=True)
class SubmitForm:
    """How the worker page submits itself: a form posted to `url` with `fields` (or a redirect when GET)."""

    url: str
    fields: Mapping[str, str] = field(default_factory=dict)
    method: Literal["POST", "GET"] = "POST"


@dataclass(frozen=True)
class PaymentOrder:
    """One ledger line to pay: `key` is the ledger's idempotency key, constant across retries."""

    key: str
    kind: Literal["reward", "waiting", "active"]
    amount: Decimal  # dollars, two decimals
    assignment: PlatformAssignment
    reason: str


@runtime_checkable
class CrowdPlatform(Protocol):
    """The port every crowd platform adapter implements (see the module docstring for when each is called)."""

    name: str

    def hire(self, project: PlatformProject, count: int, key: str) -> dict[str, Any] | None:
        """Open `count` more slots."""
        ...

    def expire(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        """Withdraw every open slot; workers present stay."""
        ...

    def stop(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        """The job ended: withdraw open slots and settle what the platform needs (workers are told to submit)."""
        ...

    def identify(self, project: PlatformProject, args: Mapping[str, str]) -> Identity | Preview:
        """Check the arrival's query parameters; raise IdentityError with a message for the worker."""
        ...

    def admit(self, project: PlatformProject, identity: Identity) -> None:
        """Last check under the project's lock before a queue place is taken; raise IdentityError to refuse."""
        ...

    def submit_target(self, project: PlatformProject, assignment: PlatformAssignment) -> SubmitForm | None:
        """Where the page submits when done; None when there is nothing to post (the page just thanks them)."""
        ...

    def reconcile(self, project: PlatformProject, present: Sequence[PlatformAssignment]) -> list[Departure]:
        """The departures among `present` that the platform knows of (returned, abandoned, submitted)."""
        ...

    def pay(self, project: PlatformProject, order: PaymentOrder) -> str:
        """Pay one ledger line, idempotently by `order.key`; return the platform's reference."""
        ...

    def fee(self, amount: Decimal) -> Decimal:
        """The platform's commission on paying `amount` dollars."""
        ...


class PlatformHost(Protocol):
    """What the runtime offers adapters besides the CrowdPlatform calls (the runtime's PolicyService implements it)."""

    config: Mapping[str, Any]  # the app config: credentials and defaults from the environment

    def add_periodic(self, name: str, every_s: float, fn: Callable[[], Any]) -> None:
        """Run `fn` every `every_s` seconds in the server's background loop; a second job of the same name is kept
        out. RuntimeError when there is no background loop."""
        ...

    def platform_projects(self, platform: str) -> list[PlatformProject]:
        """The views of this platform's projects that may still have workers (live, expired or stopped)."""
        ...

    def platform_view(self, project_id: int) -> tuple[CrowdPlatform, PlatformProject]:
        """A project's adapter and view; LookupError when there is no such project."""
        ...

    def stints(self, project_id: int, assignment_id: str) -> list[tuple[str, datetime]]:
        """(platform worker id, joined at) of the present stints holding a platform assignment id, oldest first."""
        ...

    def platform_departure(self, project_id: int, departure: Departure, source: str = "notification") -> bool:
        """Report that an assignment ended; False when it was known already (de-duplicated on `departure.key`)."""
        ...

    def journal_engine(self) -> Engine:
        """The runtime's database engine, for an adapter's own table; used outside the service's transactions."""
        ...


def host_of(app: Any) -> PlatformHost:
    """The PlatformHost that create_app registered on a Flask app (for class hooks such as `init_app`)."""
    host: PlatformHost = app.extensions[HOST_EXTENSION]
    return host
