"""Amazon Mechanical Turk adapter: HITs through boto3, workers from the ExternalQuestion link, pay by approval/bonus."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from pavilion.errors import InputError
from pavilion.runtime.platforms.base import (
    Departure,
    Identity,
    IdentityError,
    PaymentOrder,
    PlatformAssignment,
    PlatformError,
    PlatformProject,
    Preview,
    SubmitForm,
    host_of,
)
from pavilion.runtime.platforms.mturk import hits, options, payments
from pavilion.runtime.platforms.mturk.client import (
    SUBMIT_HOSTS,
    endpoint_url,
    error_message,
    is_real,
    make_client,
    turk_code,
)
from pavilion.runtime.platforms.mturk.notifications import subscribe
from pavilion.runtime.platforms.mturk.reconcile import SURPLUS_GRACE_S, Present, reconcile

PREVIEW_ASSIGNMENT = "ASSIGNMENT_ID_NOT_AVAILABLE"
ASSIGNMENT_ID = HIT_ID = re.compile(r"^[A-Z0-9]{30}\Z")  # reference section 1: IDs are 30 of [0-9A-Z]
WORKER_ID = re.compile(r"^A[A-Z0-9]{1,63}\Z")  # the API's pattern ^A[A-Z0-9]+$, within EntityId's 64
PERMANENT_CODES = {"InvalidParameterValue", "PermissionDenied", "HITTypeDoesNotExist"}
SETTINGS: dict[str, tuple[type, Any]] = {  # key: (type, default)
    "endpoint": (str, None),  # sandbox | production | http(s) URL; default: MTURK_ENDPOINT, else sandbox
    "sqs_queue_url": (str, None),  # notifications queue; default: MTURK_SQS_QUEUE_URL, else none
    "sqs_endpoint": (str, None),  # SQS endpoint override (a local SQS); default: MTURK_SQS_ENDPOINT
    "lifetime_s": (int, 24 * 3600),
    "assignment_duration_s": (int, 3600),
    "auto_approval_delay_s": (int, 3 * 24 * 3600),
    "keywords": (str, "real-time, waiting room"),
    "frame_height": (int, 0),
}


@contextmanager
def calling(what: str) -> Iterator[None]:
    """Turn boto3 failures into PlatformError: MTurk's refusals of bad input are permanent, the rest is retried."""
    try:
        yield
    except PlatformError:
        raise
    except Exception as exc:
        code = turk_code(exc)
        raise PlatformError(
            f"MTurk {what} failed: {code or type(exc).__name__}: {error_message(exc)}",
            transient=code not in PERMANENT_CODES,
        ) from exc


class MTurkPlatform:
    """One project's MTurk side. Built per use from settings and app config; keeps no state of its own."""

    name = "mturk"

    def __init__(self, settings: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        self.settings = self.validate_settings(settings)
        self.config = config
        self.endpoint = self.settings.get("endpoint") or str(config.get("MTURK_ENDPOINT") or "sandbox")
        self.queue_url = self.settings.get("sqs_queue_url") or config.get("MTURK_SQS_QUEUE_URL") or None
        self.sqs_endpoint = self.settings.get("sqs_endpoint") or config.get("MTURK_SQS_ENDPOINT") or None
        self._client: Any = None

    # ---- configuration ---------------------------------------------------------------------------------
    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(settings) - set(SETTINGS) - {"name"}
        if unknown:
            raise ValueError(f"platform.{sorted(unknown)[0]} is not an MTurk setting")
        out: dict[str, Any] = {}
        for key, (kind, default) in SETTINGS.items():
            value = settings.get(key, default)
            if value is None:
                continue
            if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"platform.{key} must be a whole number, got {value!r}")
            if kind is str and not isinstance(value, str):
                raise ValueError(f"platform.{key} must be text, got {value!r}")
            out[key] = value
        if "endpoint" in out:
            try:
                endpoint_url(out["endpoint"])
            except ValueError as exc:
                raise ValueError(f"platform.endpoint: {exc}") from None
        for key, low, high in (
            ("lifetime_s", 30, 31_536_000),
            ("assignment_duration_s", 30, 31_536_000),
            ("auto_approval_delay_s", 0, 2_592_000),
        ):
            if not low <= out[key] <= high:
                raise ValueError(f"platform.{key} must be between {low} and {high} seconds, got {out[key]}")
        return out

    @classmethod
    def add_serve_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Declared in `options` (light, for the command line's registration)."""
        options.add_serve_arguments(parser)

    @classmethod
    def settings_from_args(cls, args: argparse.Namespace) -> dict[str, Any]:
        """App config from `pavilion serve` flags: the defaults of every MTurk project on this server."""
        found = {"MTURK_ENDPOINT": getattr(args, "mturk_endpoint", None),
                 "MTURK_SQS_QUEUE_URL": getattr(args, "mturk_sqs_queue_url", None),
                 "MTURK_SQS_ENDPOINT": getattr(args, "mturk_sqs_endpoint", None)}
        if found["MTURK_ENDPOINT"]:
            try:
                endpoint_url(found["MTURK_ENDPOINT"])
            except ValueError as exc:
                raise InputError(f"--mturk-endpoint: {exc}") from None
        return {k: v for k, v in found.items() if v}

    @classmethod
    def init_app(cls, app: Any, *_: Any) -> None:
        """Poll the MTurk notification queues in the server's background loop (when a queue is configured)."""
        from pavilion.runtime.platforms.mturk.consumer import poll_once

        host = host_of(app)
        every_s = float(app.config.get("MTURK_POLL_S", 2.0))
        host.add_periodic("mturk-notifications", every_s, lambda: poll_once(host))  # one per app: kept once

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.endpoint, max_attempts=int(self.config.get("MTURK_MAX_ATTEMPTS", 10)))
        return self._client

    # ---- recruiting ------------------------------------------------------------------------------------
    def spec(self, project: PlatformProject) -> hits.HitSpec:
        if not project.public_url.startswith(("http://", "https://")):
            raise PlatformError("MTurk needs this server's public address for the task link: set PAVILION_PUBLIC_URL",
                                transient=False)
        task_url = f"{project.public_url.rstrip('/')}/task/{project.id}"
        if is_real(self.endpoint) and not task_url.startswith("https://"):
            raise PlatformError(
                f"MTurk shows only HTTPS task pages; the public URL is {project.public_url!r}", transient=False
            )
        title = str(project.task.get("title") or project.name)[:100]
        reward = Decimal(str(project.pay.get("reward", "0")))
        return hits.HitSpec(
            title=title,
            description=str(project.task.get("description") or title)[:2000],
            reward=f"{reward:.2f}",
            keywords=self.settings["keywords"],
            assignment_duration_s=self.settings["assignment_duration_s"],
            auto_approval_delay_s=self.settings["auto_approval_delay_s"],
            lifetime_s=self.settings["lifetime_s"],
            task_url=task_url,
            frame_height=self.settings["frame_height"],
        )

    def _ensure_hit_type(self, project: PlatformProject, spec: hits.HitSpec, key: str) -> dict[str, Any]:
        """One HIT type per project, titled exactly as the researcher wrote (workers see it). MTurk gives equal
        attributes one type, so equal projects may share it: the project's HITs are known by their recorded ids and
        by the run id in their RequesterAnnotation, never by the type."""
        state = dict(project.state)
        if state.get("hit_type_id"):
            return state
        run_id = state.get("run_id") or hits.request_token(project.public_url, project.id, project.name, key)[:10]
        with calling("CreateHITType"):
            state["hit_type_id"] = hits.create_hit_type(self.client, spec)
            if self.queue_url:
                subscribe(self.client, state["hit_type_id"], self.queue_url)
        state.update(run_id=run_id, title=spec.title, hits=list(state.get("hits", [])))
        return state

    def hire(self, project: PlatformProject, count: int, key: str) -> dict[str, Any] | None:
        """New HITs of the project's type, at most 9 assignments each; tokens come from the outbox key."""
        if key in project.state.get("hired_keys", []):
            return None
        spec = self.spec(project)
        state = self._ensure_hit_type(project, spec, key)
        created = []
        for i, size in enumerate(hits.chunks(count)):
            token = hits.request_token(state["run_id"], key, i)
            with calling("CreateHITWithHITType"):
                created.append(hits.create_hit(self.client, state["hit_type_id"], spec, size, token,
                                               hits.annotation(state["run_id"], token)))
        state["hits"] = list(state["hits"]) + [h for h in created if h not in state["hits"]]
        state["hired_keys"] = (list(state.get("hired_keys", [])) + [key])[-1000:]
        return state

    def expire(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        """Every HIT of the project expires now; accepted workers keep their assignment until its deadline."""
        for hit_id in project.state.get("hits", []):
            with calling("UpdateExpirationForHIT"):
                hits.expire_hit(self.client, hit_id)
        return {**project.state, "expired": True}

    def stop(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        # Nobody can submit for a worker: each page posts its own externalSubmit form when told to stop.
        return self.expire(project, key)

    # ---- workers -------------------------------------------------------------------------------------------
    def identify(self, project: PlatformProject, args: Mapping[str, str]) -> Identity | Preview:
        """The link's ids in MTurk's formats and the HIT one of ours; `admit` then checks the HIT has room."""
        assignment_id, hit_id = args.get("assignmentId", ""), args.get("hitId", "")
        if assignment_id == PREVIEW_ASSIGNMENT:
            return Preview()
        worker_id = args.get("workerId", "")
        if not (assignment_id and hit_id and worker_id):
            raise IdentityError(
                "Open this task from Mechanical Turk: the link lacks an assignment, HIT or worker id.", status=400
            )
        for name, value, pattern, shape in (
            ("assignmentId", assignment_id, ASSIGNMENT_ID, "30 capital letters and digits"),
            ("hitId", hit_id, HIT_ID, "30 capital letters and digits"),
            ("workerId", worker_id, WORKER_ID, "A followed by capital letters and digits, up to 64"),
        ):
            if not pattern.match(value):
                raise IdentityError(f"The task link's {name} is not a Mechanical Turk id ({shape}).", status=400)
        if not self._hit_of_project(project, hit_id):
            raise IdentityError("This HIT does not belong to this task.")
        extra = {"hitId": hit_id, "turkSubmitTo": args.get("turkSubmitTo", ""), "seenAt": datetime.now(UTC).isoformat()}
        return Identity(worker_id=worker_id, assignment_id=assignment_id, extra=extra)

    def _hit_of_project(self, project: PlatformProject, hit_id: str) -> bool:
        """A HIT created but not yet recorded (a hire interrupted before its state was saved) is known by GetHIT."""
        try:
            return self.owns_hit(project, hit_id)
        except Exception as exc:
            raise IdentityError("Mechanical Turk cannot be reached right now; please reload in a minute.") from exc

    def owns_hit(self, project: PlatformProject, hit_id: str) -> bool:
        """Whether MTurk's record of the HIT says it is this project's: our type and our run id in its annotation.
        (A project hired before titles lost their run id suffix has a type of its own, which is proof enough.)"""
        state = project.state
        type_id, run_id = state.get("hit_type_id"), str(state.get("run_id") or "")
        if hit_id in state.get("hits", []):
            return True
        if not type_id or not run_id:
            return False
        try:
            hit = self.client.get_hit(HITId=hit_id)["HIT"]
        except Exception as exc:
            if turk_code(exc) == "HITDoesNotExist":
                return False
            raise
        if hit["HITTypeId"] != type_id:
            return False
        return hits.annotated_for(hit, run_id) or str(state.get("title", "")).endswith(f"(pavilion-{run_id})")

    def admit(self, project: PlatformProject, identity: Identity) -> None:
        """Ask MTurk before a place is given: the assignment must not be finished, the HIT must have an accepted
        assignment that none of our present workers holds yet.

        MTurk shows an accepted, unsubmitted assignment nowhere (GetAssignment says it does not exist,
        ListAssignmentsForHIT lists only submitted work), so the count of pending assignments that GetHIT reports
        is the only check there is: present stints per HIT never exceed it."""
        hit_id = str(identity.extra.get("hitId", ""))
        with calling("GetHIT"):  # unreachable: a transient PlatformError, the page says try again
            hit = self.client.get_hit(HITId=hit_id)["HIT"]
        with calling("GetAssignment"):
            finished = self._finished_assignment(identity.assignment_id)
        if finished is not None:
            raise IdentityError("This assignment is already submitted on Mechanical Turk; it cannot join again.")
        # MTurk hands a freed assignment id to the next worker who accepts, so a stint holding this id for another
        # worker has ended (its return is on its way): it holds no pending assignment any more.
        holding = [p for p in project.present if p.extra.get("hitId") == hit_id
                   and not (p.assignment_id == identity.assignment_id and p.worker_id != identity.worker_id)]
        if len(holding) >= int(hit.get("NumberOfAssignmentsPending", 0)):
            raise IdentityError(
                "Mechanical Turk shows no accepted assignment of this HIT that is free. Accept the HIT on "
                "Mechanical Turk; if you just did, reload this page in a minute."
            )

    def _finished_assignment(self, assignment_id: str) -> dict[str, Any] | None:
        """The assignment if MTurk lists it (submitted, approved or rejected); None while it is only accepted."""
        try:
            assignment: dict[str, Any] = self.client.get_assignment(AssignmentId=assignment_id)["Assignment"]
        except Exception as exc:
            if turk_code(exc) == "AssignmentDoesNotExist":
                return None
            raise
        return assignment

    def submit_target(self, project: PlatformProject, assignment: PlatformAssignment) -> SubmitForm | None:
        """MTurk's externalSubmit on the host we configured (never a host taken from the worker's link)."""
        return SubmitForm(
            url=f"{self.submit_host()}/mturk/externalSubmit", fields={"assignmentId": assignment.assignment_id}
        )

    def submit_host(self) -> str:
        if self.endpoint in SUBMIT_HOSTS:
            return SUBMIT_HOSTS[self.endpoint]
        parts = urlsplit(endpoint_url(self.endpoint))
        return f"{parts.scheme}://{parts.netloc}"  # an emulator serves its worker side on the same address

    # ---- departures ---------------------------------------------------------------------------------------------
    def reconcile(self, project: PlatformProject, present: Sequence[PlatformAssignment]) -> list[Departure]:
        now = datetime.now(UTC)
        ours = [
            Present(p.key, p.assignment_id, p.worker_id, str(p.extra.get("hitId", "")), _seen_at(p, now))
            for p in present
            if p.extra.get("hitId")
        ]
        if not ours:
            return []
        with calling("reconciliation"):
            grace_s = float(self.config.get("MTURK_SURPLUS_GRACE_S", SURPLUS_GRACE_S))
            found = reconcile(self.client, ours, now, grace_s)
        by_key = {p.key: p for p in present}
        return [
            Departure(
                by_key[f.key].worker_id,
                by_key[f.key].assignment_id,
                f.how,  # type: ignore[arg-type]
                f"mturk-reconcile:{f.key}:{f.how}",
                timed_out=f.how == "abandoned",  # reconciliation finds an abandonment only past the deadline
            )
            for f in found
        ]

    # ---- money -------------------------------------------------------------------------------------------------
    def pay(self, project: PlatformProject, order: PaymentOrder) -> str:
        with calling(f"payment {order.key}"):
            if order.kind == "reward":
                return payments.approve(self.client, order)
            return payments.bonus(self.client, order)

    def fee(self, amount: Decimal) -> Decimal:
        return payments.fee(amount)


def _seen_at(p: PlatformAssignment, now: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(p.extra["seenAt"]))
    except (KeyError, ValueError):
        return now
