"""Prolific adapter: one study per project, places raised to a target, identity by submission, webhooks, bonuses."""

from __future__ import annotations

import argparse
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pavilion.runtime.platforms.base import (
    Departure,
    Identity,
    IdentityError,
    PaymentOrder,
    PlatformAssignment,
    PlatformError,
    PlatformHost,
    PlatformProject,
    Preview,
    SubmitForm,
    host_of,
)
from pavilion.runtime.platforms.prolific import options, payments
from pavilion.runtime.platforms.prolific import study as studies
from pavilion.runtime.platforms.prolific.client import DEFAULT_API_URL, ProlificClient, ProlificError
from pavilion.runtime.platforms.prolific.hooks import HookSetup
from pavilion.runtime.platforms.prolific.journal import BonusJournal
from pavilion.runtime.platforms.prolific.reconcile import HOW, departure, reconcile
from pavilion.runtime.platforms.prolific.webhooks import (
    EVENT_ID,
    EVENT_TIME,
    Freshness,
    event_time,
    header,
    parse,
    verify,
)

log = logging.getLogger(__name__)

COMPLETION_URL = "https://app.prolific.com/submissions/complete"
# Prolific starts a submission (RESERVED -> ACTIVE) when the participant opens the study from its site, so only an
# ACTIVE one has been opened by its participant; a RESERVED one has a place held but was never started there.
IN_STUDY = frozenset({"ACTIVE"})
NOT_STARTED = (
    "Prolific shows your place in this study as reserved but not started. Start the study on Prolific "
    "(its button that opens the study), then reload this page; the place stays reserved for 10 minutes."
)
PROLIFIC_ID = re.compile(r"^[0-9a-fA-F]{24}\Z")  # participant, study and submission ids (reference section 11)
IDENTITY_TTL_S = 60.0
SETTINGS: dict[str, tuple[type, Any]] = {  # key: (type, default)
    "api_url": (str, None),  # default: PAVILION_PROLIFIC_API_URL, else Prolific's
    "workspace_id": (str, None),  # default: PAVILION_PROLIFIC_WORKSPACE_ID, else the token's first workspace
    "estimated_minutes": (int, 10),
    "maximum_minutes": (int, None),  # default: generous (3x the estimate + 1 h), since waiting time counts
    "completion_code": (str, "PAVILION-DONE"),  # researcher code the server completes with
    "participant_code": (str, "PAVILION-FINISHED"),  # fallback code for the completion redirect
    "device_compatibility": (list, ["desktop"]),
    "filters": (list, []),
    "fee_rate": (str, "0.3333"),  # estimate for the ledger; the bonus journal keeps what Prolific charged
    "completion_url": (str, COMPLETION_URL),
    "webhooks": (bool, True),
}


class ProlificPlatform:
    """One project's Prolific side; the token comes from the app config (environment), never the database."""

    name = "prolific"

    def __init__(self, settings: Mapping[str, Any], config: Mapping[str, Any], clock: Callable[[], float] = time.time):
        self.settings = {**{k: d for k, (_, d) in SETTINGS.items()}, **self.validate_settings(settings)}
        self.config = config
        self.api_url = self.settings["api_url"] or str(config.get("PROLIFIC_API_URL") or DEFAULT_API_URL)
        self.clock = clock
        self._client: ProlificClient | None = None
        self._host: PlatformHost | None = None
        self._journal: BonusJournal | None = None
        self._hooks: HookSetup | None = None
        self._identities: dict[str, tuple[float, Identity]] = {}
        self._fresh = Freshness()

    # ---- configuration -----------------------------------------------------------------------------------
    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Only known keys of the right type; ValueError names the bad key."""
        out: dict[str, Any] = {}
        for key, value in settings.items():
            if key == "name":
                continue
            if key not in SETTINGS:
                raise ValueError(f"platform.{key} is not a Prolific setting (known: {', '.join(sorted(SETTINGS))})")
            kind = SETTINGS[key][0]
            if value is None or (isinstance(value, kind) and not (kind is int and isinstance(value, bool))):
                out[key] = value
            else:
                raise ValueError(f"platform.{key} must be {kind.__name__}, got {value!r}")
        estimate = out.get("estimated_minutes", 10)
        if not 1 <= estimate < studies.MAX_MINUTES:
            raise ValueError(f"platform.estimated_minutes must be 1..{studies.MAX_MINUTES - 1}, got {estimate}")
        maximum = out.get("maximum_minutes")
        if maximum is not None and not studies.least_maximum_minutes(estimate) <= maximum <= studies.MAX_MINUTES:
            raise ValueError(
                f"platform.maximum_minutes must be {studies.least_maximum_minutes(estimate)}.."
                f"{studies.MAX_MINUTES} for an estimate of {estimate} minutes, got {maximum}"
            )
        try:
            Decimal(str(out.get("fee_rate", "0")))
        except InvalidOperation:
            raise ValueError(f"platform.fee_rate must be a decimal, got {out['fee_rate']!r}") from None
        return out

    @classmethod
    def add_serve_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """`pavilion serve --prolific-api-url URL`, declared in `options` (light, for the command line)."""
        options.add_serve_arguments(parser)

    @classmethod
    def settings_from_args(cls, args: argparse.Namespace) -> dict[str, Any]:
        """App-config overrides from `pavilion serve` options."""
        url = getattr(args, "prolific_api_url", None)
        return {"PROLIFIC_API_URL": url} if url else {}

    @classmethod
    def init_app(cls, app: Any, *_: Any) -> None:
        """Add the webhook route to a runtime app (see routes.py); deliveries go to the app's PlatformHost."""
        from pavilion.runtime.platforms.prolific.routes import init_app

        init_app(app, host_of(app), cls)

    def bind(self, host: PlatformHost) -> None:
        """Called by the service that built this adapter: the bonus journal lives in the host's database."""
        self._host = host
        self._journal = None

    @property
    def client(self) -> ProlificClient:
        if self._client is None:
            token = str(self.config.get("PROLIFIC_TOKEN") or "")
            backoff = float(self.config.get("PROLIFIC_BACKOFF_S") or 1.0)
            self._client = ProlificClient(token, self.api_url, backoff_s=backoff)
        return self._client

    @property
    def journal(self) -> BonusJournal:
        if self._journal is None:
            if self._host is None:
                raise PlatformError("no database for the Prolific bonus journal: bind the adapter to a host first",
                                    transient=False)
            self._journal = BonusJournal(self._host.journal_engine())
        return self._journal

    @property
    def hooks(self) -> HookSetup:
        if self._hooks is None:
            workspace = self.settings["workspace_id"] or self.config.get("PROLIFIC_WORKSPACE_ID")
            secret = str(self.config.get("PROLIFIC_WEBHOOK_SECRET") or "")
            self._hooks = HookSetup(self.client, workspace or None, secret)
        return self._hooks

    @staticmethod
    def study_id(project: PlatformProject) -> str:
        return str(project.state.get("study_id") or "")

    # ---- recruiting --------------------------------------------------------------------------------------
    def hire(self, project: PlatformProject, count: int, key: str) -> dict[str, Any] | None:
        """First hire: create and publish the study. Later: raise the absolute place target (never down)."""
        state = dict(project.state)
        if key in state.get("keys", []) or state.get("stopped"):
            return None
        if not self.study_id(project):
            state.update(self._launch(project, count, key))
        else:
            target = int(state.get("target", 0)) + count
            studies.raise_places(self.client, self.study_id(project), target, resume=not state.get("expired"))
            state["target"] = target
        state["keys"] = (list(state.get("keys", [])) + [key])[-200:]
        return state

    def _launch(self, project: PlatformProject, places: int, key: str) -> dict[str, Any]:
        body = studies.draft(project, self.settings, places, key)
        hooks = self._subscribe(project) if self.settings["webhooks"] else []
        study = studies.find_or_create(self.client, project, body)
        if study.get("status") == "UNPUBLISHED":
            study = studies.transition(self.client, str(study["id"]), "PUBLISH")
        return {"study_id": str(study["id"]), "target": places, "subscriptions": hooks}

    def _subscribe(self, project: PlatformProject) -> list[str]:
        if not project.public_url:
            return []  # no public address: departures come from reconciliation only
        target = f"{project.public_url.rstrip('/')}/prolific/webhook/{project.id}"
        try:
            return self.hooks.subscribe(target, ("submission.status.change", "study.status.change"))
        except ProlificError as exc:
            if exc.transient:
                raise
            # e.g. a target that is not public https: recruit anyway, departures then come from reconciliation
            log.warning("Prolific refused the webhook subscription for project %s: %s", project.id, exc.detail)
            return []

    def expire(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        """Prolific's places only go up, so closing recruitment is a PAUSE (no new reservations)."""
        if project.state.get("expired") or project.state.get("stopped"):
            return None
        if self.study_id(project):
            study = self.client.call("GET", f"studies/{self.study_id(project)}/", retry=True)
            if study["status"] == "ACTIVE":
                studies.transition(self.client, self.study_id(project), "PAUSE")
        return {**project.state, "expired": True}

    def stop(self, project: PlatformProject, key: str) -> dict[str, Any] | None:
        """PAUSE, complete each started submission with the researcher code, STOP, then approve them in bulk."""
        if project.state.get("stopped"):
            return None
        study_id = self.study_id(project)
        if study_id:
            study = self.client.call("GET", f"studies/{study_id}/", retry=True)
            if study["status"] == "ACTIVE":
                studies.transition(self.client, study_id, "PAUSE")
            code = str(self.settings["completion_code"])
            for sub in list(self.client.pages("submissions/", {"study": study_id, "status": "ACTIVE"})):
                payments.complete(self.client, str(sub["id"]), code)
            studies.transition(self.client, study_id, "STOP")
            done = self.client.pages("submissions/", {"study": study_id, "status": "AWAITING_REVIEW"})
            payments.approve(self.client, [str(s["id"]) for s in done if s.get("study_code") == code])
        return {**project.state, "stopped": True}

    def resume_if_paused(self, project: PlatformProject) -> None:
        """Prolific pauses a full study that loses a place; re-open it unless we closed recruitment ourselves."""
        state = project.state
        if not self.study_id(project) or state.get("expired") or state.get("stopped") or project.status != "live":
            return
        study = self.client.call("GET", f"studies/{self.study_id(project)}/", retry=True)
        if study["status"] == "PAUSED":
            studies.transition(self.client, self.study_id(project), "START")

    # ---- workers -----------------------------------------------------------------------------------------
    def identify(self, project: PlatformProject, args: Mapping[str, str]) -> Identity | Preview:
        """Check SESSION_ID with Prolific: same study, same participant, started there (ACTIVE)."""
        pid, study, session = (args.get(k, "") for k in ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID"))
        if any("{{%" in v for v in (pid, study, session)):
            return Preview("researcher preview")
        if not (pid and study and session):
            raise IdentityError(
                "please open this task from Prolific (PROLIFIC_PID, STUDY_ID or SESSION_ID is missing)", status=400
            )
        for name, value in (("PROLIFIC_PID", pid), ("STUDY_ID", study), ("SESSION_ID", session)):
            if not PROLIFIC_ID.match(value):  # before any API call: the id becomes part of a request path
                raise IdentityError(f"the task link's {name} is not a Prolific id (24 hexadecimal digits)", status=400)
        if study != self.study_id(project):
            raise IdentityError("this link belongs to another Prolific study")
        cached = self._identities.get(session)
        if cached is not None and cached[0] > self.clock() and cached[1].worker_id == pid:
            return cached[1]
        try:
            sub = self.client.call("GET", f"submissions/{session}/", retry=True)
        except ProlificError as exc:
            if exc.status == 404:
                raise IdentityError("Prolific does not know this session; please start again from Prolific") from exc
            raise IdentityError("Prolific could not confirm your place just now; please reload in a moment") from exc
        if sub.get("study_id") != study or sub.get("participant") != pid:
            raise IdentityError("this Prolific session belongs to someone else")
        if sub.get("status") == "RESERVED":
            raise IdentityError(NOT_STARTED, status=409)
        if sub.get("status") not in IN_STUDY:
            raise IdentityError(f"your Prolific submission is {str(sub.get('status')).lower()}; it cannot join now")
        identity = Identity(worker_id=pid, assignment_id=session, extra={"study_id": study})
        if len(self._identities) > 10_000:
            now = self.clock()
            self._identities = {k: v for k, v in self._identities.items() if v[0] > now}
        self._identities[session] = (self.clock() + IDENTITY_TTL_S, identity)
        return identity

    def admit(self, project: PlatformProject, identity: Identity) -> None:
        if project.state.get("stopped"):
            raise IdentityError("this study has ended")

    def submit_target(self, project: PlatformProject, assignment: PlatformAssignment) -> SubmitForm | None:
        """Back to Prolific with the participant code; the server also completes the submission itself."""
        url = f"{self.settings['completion_url']}?cc={self.settings['participant_code']}"
        return SubmitForm(url=url, method="GET")

    # ---- departures --------------------------------------------------------------------------------------
    def reconcile(self, project: PlatformProject, present: Sequence[PlatformAssignment]) -> list[Departure]:
        """List the study's submissions; re-open a study Prolific paused by itself."""
        if not self.study_id(project):
            return []
        listing = list(self.client.pages("submissions/", {"study": self.study_id(project)}))
        self.resume_if_paused(project)
        return reconcile(project.id, present, listing)

    def webhook(self, project: PlatformProject, headers: Mapping[str, str], body: bytes) -> Departure | None:
        """A verified delivery -> the departure it means, confirmed by re-reading the submission (events reorder)."""
        verify(self.hooks.secret(), headers, body, self.clock())
        payload = parse(body)
        event_id = header(headers, EVENT_ID)
        if payload["event_type"] == "study.status.change":
            if payload["resource_id"] == self.study_id(project) and payload.get("status") == "PAUSED":
                self.resume_if_paused(project)
            return None
        if payload["event_type"] != "submission.status.change" or payload.get("status") not in HOW or not event_id:
            return None
        if not self._fresh.fresh(str(payload["resource_id"]), event_time(header(headers, EVENT_TIME))):
            return None
        sub = self.client.call("GET", f"submissions/{payload['resource_id']}/", retry=True)
        if sub.get("study_id") != self.study_id(project):
            return None
        return departure(
            project.id, str(sub["id"]), str(sub["participant"]), str(sub["status"]), key=f"prolific-event:{event_id}"
        )

    # ---- money -------------------------------------------------------------------------------------------
    def pay(self, project: PlatformProject, order: PaymentOrder) -> str:
        """The reward by completing and approving; waiting and active pay as bonuses, at most once each."""
        if order.kind == "reward":
            return payments.pay_reward(self.client, order.assignment.assignment_id, self.settings["completion_code"])
        if not self.study_id(project):
            raise PlatformError("no Prolific study for this project", transient=False)
        return payments.pay_bonus(self.client, self.journal, self.study_id(project), order)

    def fee(self, amount: Decimal) -> Decimal:
        """An estimate from `fee_rate`; Prolific prices each bonus itself and the journal keeps its figures."""
        return (amount * Decimal(str(self.settings["fee_rate"]))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
