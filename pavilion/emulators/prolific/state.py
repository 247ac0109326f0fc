"""The emulator's state machines (studies, submissions, participants), free of HTTP; the caller holds the lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pavilion.emulators.prolific import model as m
from pavilion.emulators.prolific.clock import Clock
from pavilion.emulators.prolific.errors import ApiError
from pavilion.emulators.prolific.validation import validate_new_study

_PATCHABLE_AFTER_PUBLISH = frozenset({"total_available_places", "internal_name"})


class EmulatorState:
    """Everything the fake Prolific knows; every public method first applies what the clock says has happened."""

    def __init__(self, clock: Clock, seed: int = 0, workspace_id: str | None = None) -> None:
        self.clock = clock
        self._rng = np.random.default_rng(seed)
        self.workspace_id = workspace_id or self.new_id()
        self.studies: dict[str, m.Study] = {}
        self.submissions: dict[str, m.Submission] = {}  # insertion order = reservation order
        self.bonuses: dict[str, m.BonusBatch] = {}
        self.payments: list[dict[str, Any]] = []  # every bonus credit, one row per line per pay call
        self.messages: list[dict[str, Any]] = []
        self.secrets: dict[str, str] = {}  # workspace -> active signing secret
        self.subscriptions: dict[str, m.Subscription] = {}
        self.outbox: list[m.HookEvent] = []  # webhook events not yet fanned out
        self._scheduled: list[tuple[float, Callable[[], None]]] = []
        self.processing_s = 0.0  # how long an approval shows PROCESSING
        self.approve_lag_s = 0.0  # bulk-approve is asynchronous
        self.bonus_lag_s = 0.0  # bonus_payments on a submission lag the pay call

    # -- ids, time and events -------------------------------------------------------------------------------
    def new_id(self) -> str:
        """Prolific ids are 24 hex digits."""
        return self._rng.bytes(12).hex()

    def now(self) -> float:
        return self.clock.now()

    def schedule(self, delay_s: float, fn: Callable[[], None]) -> None:
        """Run `fn` once the clock has moved `delay_s` on (at once when 0)."""
        if delay_s <= 0:
            fn()
        else:
            self._scheduled.append((self.now() + delay_s, fn))

    def _emit(self, event_type: str, resource_id: str, **payload: Any) -> None:
        body = {"resource_id": resource_id, "event_type": event_type, **payload}
        self.outbox.append(m.HookEvent(self.new_id(), event_type, resource_id, body, self.now()))

    def tick(self) -> None:
        """Apply every timeout and lagged effect that is due by now."""
        now = self.now()
        due = [item for item in self._scheduled if item[0] <= now]
        self._scheduled = [item for item in self._scheduled if item[0] > now]
        for _, fn in sorted(due, key=lambda item: item[0]):
            fn()
        for sub in list(self.submissions.values()):
            study = self.studies[sub.study_id]
            if sub.status == m.RESERVED and now >= sub.reserved_at + m.RESERVATION_S:
                self.set_submission(sub, m.TIMED_OUT)
            elif sub.status == m.ACTIVE and sub.started_at is not None:
                if now >= sub.started_at + 60.0 * study.maximum_allowed_time:
                    self.set_submission(sub, m.TIMED_OUT)
            elif sub.status == m.PROCESSING and now >= sub.settles_at and sub.settles_to:
                self.set_submission(sub, sub.settles_to)

    # -- studies --------------------------------------------------------------------------------------------
    def study(self, study_id: str) -> m.Study:
        self.tick()
        if study_id not in self.studies:
            raise ApiError(404, "Not found.")
        return self.studies[study_id]

    def create_study(self, body: dict[str, Any]) -> m.Study:
        self.tick()
        validate_new_study(body)
        known = {"name", "internal_name", "external_study_url", "completion_codes", "total_available_places", "reward"}
        study = m.Study(
            id=self.new_id(),
            workspace_id=self.workspace_id,
            name=body["name"],
            internal_name=body.get("internal_name") or body["name"],
            external_study_url=body["external_study_url"],
            completion_codes=list(body.get("completion_codes") or []),
            total_available_places=body["total_available_places"],
            reward=body["reward"],
            estimated_completion_time=body["estimated_completion_time"],
            maximum_allowed_time=body["maximum_allowed_time"],
            created_at=self.now(),
            fields={k: v for k, v in body.items() if k not in known},
        )
        self.studies[study.id] = study
        return study

    def patch_study(self, study_id: str, body: dict[str, Any]) -> m.Study:
        study = self.study(study_id)
        if study.status != m.UNPUBLISHED:
            refused = sorted(set(body) - _PATCHABLE_AFTER_PUBLISH)
            if refused:
                raise ApiError(400, {k: ["This field cannot be changed once the study is published."] for k in refused})
        if "total_available_places" in body:
            places = body["total_available_places"]
            if not isinstance(places, int) or isinstance(places, bool) or places < 1:
                raise ApiError(400, {"total_available_places": ["A positive integer is required."]})
            if study.status != m.UNPUBLISHED and places < study.total_available_places:
                raise ApiError(400, {"total_available_places": ["The number of places cannot be decreased."]})
            study.total_available_places = places
            if study.status == m.AWAITING_REVIEW and not study.stopped and self.places_taken(study) < places:
                self._set_study(study, m.ACTIVE)  # more places resume a study that filled up
        for key, value in body.items():
            if key == "internal_name":
                study.internal_name = str(value)
            elif key != "total_available_places":
                study.fields[key] = value
        return study

    def delete_study(self, study_id: str) -> None:
        study = self.study(study_id)
        if study.status != m.UNPUBLISHED:
            raise ApiError(400, "Only draft studies can be deleted.")
        del self.studies[study_id]

    def transition_study(self, study_id: str, action: str) -> m.Study:
        study = self.study(study_id)
        allowed = {
            "PUBLISH": {m.UNPUBLISHED},
            "PAUSE": {m.ACTIVE},
            "START": {m.PAUSED},
            "STOP": {m.ACTIVE, m.PAUSED, m.AWAITING_REVIEW},
        }
        if action not in allowed:
            raise ApiError(400, {"action": [f'"{action}" is not a valid choice.']})
        if study.stopped or study.status not in allowed[action]:
            raise ApiError(400, f"Cannot {action.lower()} a study with status {study.status}.")
        if action == "STOP":
            study.stopped = True
            self._set_study(study, m.AWAITING_REVIEW)
        elif action == "PAUSE":
            self._set_study(study, m.PAUSED)
        else:
            if action == "PUBLISH":
                study.published_at = self.now()
            self._set_study(study, m.ACTIVE)
        self._refresh_study(study, freed=False)
        return study

    def places_taken(self, study: m.Study) -> int:
        return sum(1 for s in self.submissions.values() if s.study_id == study.id and s.status in m.HOLDS_PLACE)

    def counts(self, study_id: str) -> dict[str, int]:
        self.study(study_id)
        counts = dict.fromkeys(m.SUBMISSION_STATUSES, 0)
        for sub in self.submissions.values():
            if sub.study_id == study_id:
                counts[sub.status] += 1
        counts["TOTAL"] = sum(counts.values())
        return counts

    def _set_study(self, study: m.Study, status: str) -> None:
        if study.status != status:
            study.status = status
            self._emit("study.status.change", study.id, status=status, metadata={})

    def _refresh_study(self, study: m.Study, freed: bool) -> None:
        """Fullness rules: a full study awaits review; a full one that loses a place pauses; stopped ones complete."""
        taken = self.places_taken(study)
        if study.stopped:
            if not any(s.study_id == study.id and s.status in m.UNDECIDED for s in self.submissions.values()):
                self._set_study(study, m.COMPLETED)
        elif study.status == m.ACTIVE and taken >= study.total_available_places:
            self._set_study(study, m.AWAITING_REVIEW)
        elif study.status == m.AWAITING_REVIEW and freed and taken < study.total_available_places:
            self._set_study(study, m.PAUSED)

    # -- submissions ----------------------------------------------------------------------------------------
    def submission(self, submission_id: str) -> m.Submission:
        self.tick()
        if submission_id not in self.submissions:
            raise ApiError(404, "Not found.")
        return self.submissions[submission_id]

    def list_submissions(self, study_id: str | None, status: str | None) -> list[m.Submission]:
        self.tick()
        wanted = {m.normalise_status(part) for part in status.split(",")} if status else None
        return [
            s
            for s in self.submissions.values()
            if (study_id is None or s.study_id == study_id) and (wanted is None or s.status in wanted)
        ]

    def set_submission(self, sub: m.Submission, status: str) -> None:
        if sub.status == status:
            return
        before = sub.status
        sub.status = status
        if status != m.PROCESSING:
            self._emit("submission.status.change", sub.id, participant_id=sub.participant_id, status=status)
        study = self.studies[sub.study_id]
        self._refresh_study(study, freed=before in m.HOLDS_PLACE and status not in m.HOLDS_PLACE)

    def transition_submission(self, submission_id: str, body: dict[str, Any]) -> m.Submission:
        sub = self.submission(submission_id)
        action = body.get("action")
        if action == "APPROVE":
            if sub.status != m.AWAITING_REVIEW:
                raise ApiError(400, f"Cannot approve a submission with status {sub.status}.")
            self._settle(sub, m.APPROVED)
        elif action == "REJECT":
            self._reject(sub, body)
        elif action == "COMPLETE":
            self._researcher_complete(sub, body.get("completion_code"))
        else:
            raise ApiError(400, {"action": [f'"{action}" is not supported by the emulator.']})
        return sub

    def _settle(self, sub: m.Submission, status: str) -> None:
        """Approvals and rejections pass briefly through PROCESSING, as on Prolific."""
        if self.processing_s <= 0:
            self.set_submission(sub, status)
            return
        sub.settles_to, sub.settles_at = status, self.now() + self.processing_s
        self.set_submission(sub, m.PROCESSING)

    def _reject(self, sub: m.Submission, body: dict[str, Any]) -> None:
        if sub.status != m.AWAITING_REVIEW:
            raise ApiError(400, f"Cannot reject a submission with status {sub.status}.")
        if len(str(body.get("message") or "")) < 100:
            raise ApiError(400, {"message": ["Rejection messages must be at least 100 characters."]})
        if body.get("rejection_category") not in m.REJECTION_CATEGORIES:
            raise ApiError(400, {"rejection_category": ["A valid rejection category is required."]})
        self._settle(sub, m.REJECTED)

    def _researcher_complete(self, sub: m.Submission, code: Any) -> None:
        study = self.studies[sub.study_id]
        entry = study.code(str(code)) if code else None
        if entry is None or entry.get("actor") != "researcher":
            raise ApiError(400, {"completion_code": ["A researcher completion code of this study is required."]})
        if sub.status not in {m.ACTIVE, m.TIMED_OUT}:
            raise ApiError(400, f"Cannot complete a submission with status {sub.status}.")
        self._complete(sub, entry)

    def _complete(self, sub: m.Submission, entry: dict[str, Any]) -> None:
        sub.completed_at, sub.entered_code = self.now(), entry["code"]
        auto = any(a.get("action") == "AUTOMATICALLY_APPROVE" for a in entry.get("actions") or [])
        self.set_submission(sub, m.AWAITING_REVIEW)
        if auto:
            self._settle(sub, m.APPROVED)

    # -- the participant simulator --------------------------------------------------------------------------
    def reserve(self, study_id: str, participant_id: str | None = None) -> m.Submission:
        """A participant takes a free place of an active study."""
        study = self.study(study_id)
        if study.status != m.ACTIVE or self.places_taken(study) >= study.total_available_places:
            raise ApiError(409, f"No place available (study {study.status}).")
        pid = participant_id or self.new_id()
        if any(s.study_id == study_id and s.participant_id == pid for s in self.submissions.values()):
            raise ApiError(409, "This participant already took part in this study.")
        sub = m.Submission(id=self.new_id(), study_id=study_id, participant_id=pid, reserved_at=self.now())
        self.submissions[sub.id] = sub
        self._emit("submission.status.change", sub.id, participant_id=pid, status=m.RESERVED)
        self._refresh_study(study, freed=False)
        return sub

    def start(self, submission_id: str) -> m.Submission:
        sub = self._participant_move(submission_id, {m.RESERVED})
        sub.started_at = self.now()
        self.set_submission(sub, m.ACTIVE)
        return sub

    def participant_return(self, submission_id: str) -> m.Submission:
        sub = self._participant_move(submission_id, {m.RESERVED, m.ACTIVE, m.AWAITING_REVIEW})
        self.set_submission(sub, m.RETURNED)
        return sub

    def time_out(self, submission_id: str) -> m.Submission:
        """Force the timeout the clock would give (for tests that do not move the clock)."""
        sub = self._participant_move(submission_id, {m.RESERVED, m.ACTIVE})
        self.set_submission(sub, m.TIMED_OUT)
        return sub

    def participant_complete(self, submission_id: str, code: str) -> m.Submission:
        """The participant reaches the completion URL with `cc=code`."""
        sub = self._participant_move(submission_id, {m.ACTIVE, m.TIMED_OUT})
        entry = self.studies[sub.study_id].code(code)
        if entry is None:
            raise ApiError(400, {"code": ["Unknown completion code."]})
        self._complete(sub, entry)
        return sub

    def _participant_move(self, submission_id: str, allowed: set[str]) -> m.Submission:
        sub = self.submission(submission_id)
        if sub.status not in allowed:
            raise ApiError(409, f"Submission is {sub.status}.")
        return sub
