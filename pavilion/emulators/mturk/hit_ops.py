"""The Requester API on HIT types, HITs and notification settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pavilion.emulators.mturk import validate as v
from pavilion.emulators.mturk.base import DEFAULT_AUTO_APPROVAL_S, SUBMITTED, ModelBase, paginate
from pavilion.emulators.mturk.errors import invalid, request_error
from pavilion.emulators.mturk.records import HIT, HITType, Notice, iso


class HitOperations(ModelBase):
    """CreateHITType, CreateHIT(WithHITType), CreateAdditionalAssignmentsForHIT, GetHIT, ListHITs, expiry, delete."""

    def _hit_type_from(self, p: Mapping[str, Any]) -> HITType:
        reward = v.amount(v.required(p, "Reward"), "Reward")
        attrs = dict(
            title=v.text(p, "Title", 128), description=v.text(p, "Description", 2000), reward=reward,
            assignment_duration_s=v.integer(p, "AssignmentDurationInSeconds", 30, 31_536_000),
            auto_approval_delay_s=v.integer(p, "AutoApprovalDelayInSeconds", 0, 2_592_000, DEFAULT_AUTO_APPROVAL_S),
            keywords=v.text(p, "Keywords", 1000, ""), qualification_requirements=v.qualification_requirements(p),
        )
        # MTurk reuses a HIT type whose attributes are all equal, so identical requests share one type.
        for existing in self.hit_types.values():
            if all(getattr(existing, k) == val for k, val in attrs.items()):
                return existing
        hit_type = HITType(hit_type_id=self._new_id(), **attrs)  # type: ignore[arg-type]
        self.hit_types[hit_type.hit_type_id] = hit_type
        return hit_type

    def _create_hit_type(self, p: Mapping[str, Any]) -> dict[str, Any]:
        return {"HITTypeId": self._hit_type_from(p).hit_type_id}

    def _create_hit(self, p: Mapping[str, Any]) -> dict[str, Any]:
        return self._create_hit_of_type(self._hit_type_from(p), p)

    def _create_hit_with_hit_type(self, p: Mapping[str, Any]) -> dict[str, Any]:
        type_id = v.entity_id(p, "HITTypeId")
        if type_id not in self.hit_types:
            raise request_error("HITTypeDoesNotExist", f"HIT type {type_id} does not exist.")
        return self._create_hit_of_type(self.hit_types[type_id], p)

    def _create_hit_of_type(self, hit_type: HITType, p: Mapping[str, Any]) -> dict[str, Any]:
        token = v.token(p)
        lifetime = v.integer(p, "LifetimeInSeconds", 30, 31_536_000)
        max_assignments = v.integer(p, "MaxAssignments", 1, 1_000_000, 1)
        question = v.question(p)
        annotation = p.get("RequesterAnnotation")
        if annotation is not None:
            annotation = v.text(p, "RequesterAnnotation", 255)
        existing = self._seen_token("CreateHIT", token)
        if existing is not None:
            raise request_error("HitAlreadyExists", f'The HIT with ID "{existing}" already exists.')
        now = self.clock.now()
        hit = HIT(self._new_id(), hit_type.hit_type_id, now, now + lifetime, question, max_assignments,
                  max_assignments, annotation)
        if self.available_balance() < max_assignments * self._unit_cost(hit):
            raise request_error("InsufficientFunds", "You do not have enough funds to create this HIT.")
        self.hits[hit.hit_id] = hit
        self._remember_token("CreateHIT", token, hit.hit_id)
        self._emit("HITCreated", hit)
        return {"HIT": self.hit_view(hit)}

    def _create_additional_assignments(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hit = self._hit(p)
        extra = v.integer(p, "NumberOfAdditionalAssignments", 1, 1_000_000)
        token = v.token(p)
        if self._seen_token("CreateAdditionalAssignmentsForHIT", token) is not None:
            raise request_error("DuplicateRequest", f'The idempotency token "{token}" has already been processed.')
        if hit.original_max < 10 and hit.max_assignments + extra >= 10:
            raise request_error(
                "InvalidMaximumAssignmentsIncrease",
                "The maximum number of assignments of a HIT created with fewer than 10 assignments cannot be "
                "increased to 10 or more.")
        if self.available_balance() < extra * self._unit_cost(hit):
            raise request_error("InsufficientFunds", "You do not have enough funds to add these assignments.")
        hit.max_assignments += extra
        self._remember_token("CreateAdditionalAssignmentsForHIT", token, hit.hit_id)
        self._emit("HITExtended", hit)
        self._settle(hit)
        return {}

    def _get_hit(self, p: Mapping[str, Any]) -> dict[str, Any]:
        return {"HIT": self.hit_view(self._hit(p, allow_disposed=self.disposed_visible))}

    def _list_hits(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hits = [h for h in self.hits.values() if not h.disposed]
        page, token = paginate(hits, p)
        out: dict[str, Any] = {"NumResults": len(page), "HITs": [self.hit_view(h) for h in page]}
        if token:
            out["NextToken"] = token
        return out

    def _update_expiration(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hit = self._hit(p)
        expire_at, now = v.timestamp(p, "ExpireAt"), self.clock.now()
        if expire_at <= now:
            hit.expiration = min(hit.expiration, now)
            if not hit.expiry_announced:
                hit.expiry_announced = True
                self._emit("HITExpired", hit)
        else:
            hit.expiration, hit.expiry_announced = expire_at, False
        self._settle(hit)
        return {}

    def _delete_hit(self, p: Mapping[str, Any]) -> dict[str, Any]:
        hit = self._hit(p, allow_disposed=True)
        status = self.status(hit)
        unreviewed = any(a.hit_id == hit.hit_id and a.status == SUBMITTED for a in self.assignments.values())
        if status not in ("Reviewable", "Reviewing") or unreviewed:
            raise request_error("InvalidHITState", f"This HIT is currently in the state '{status}'. This operation "
                                                   "can be called with a status of: Reviewing, Reviewable")
        self._emit("HITDisposed", hit)
        hit.disposed = True
        hit.last_status = "Disposed"
        return {}

    # ---- notification settings ---------------------------------------------------------------------------------
    def _update_notification_settings(self, p: Mapping[str, Any]) -> dict[str, Any]:
        type_id = v.entity_id(p, "HITTypeId")
        hit_type = self.hit_types.get(type_id)
        if hit_type is None:
            raise request_error("HITTypeDoesNotExist", f"HIT type {type_id} does not exist.")
        spec, active = p.get("Notification"), p.get("Active")
        if spec is None and active is None:
            raise invalid("Specify a Notification, Active, or both")
        if spec is not None:
            hit_type.notification = notification_spec(spec)
            hit_type.notification_active = True if active is None else bool(active)
        elif hit_type.notification is None:
            raise invalid("The HIT type has no notification specification to activate")
        else:
            hit_type.notification_active = bool(active)
        return {}

    def _send_test_event(self, p: Mapping[str, Any]) -> dict[str, Any]:
        spec = notification_spec(v.required(p, "Notification"))
        event_type = v.required(p, "TestEventType")
        if event_type not in v.EVENT_TYPES:
            raise invalid(f"Value '{event_type}' at 'TestEventType' is not a valid event type")
        event = {"EventType": event_type, "EventTimestamp": iso(self.clock.now()), "HITId": "TESTHITID",
                 "HITTypeId": "TESTHITTYPEID", "AssignmentId": "TESTASSIGNMENTID"}
        self.outbox.append(Notice(spec["Destination"], spec["Transport"], spec["Version"], event))
        return {}


def notification_spec(spec: Any) -> dict[str, Any]:
    """A notification specification as MTurk accepts it (destination, transport, version, event types)."""
    if not isinstance(spec, dict):
        raise invalid("Notification must be a structure")
    for key in ("Destination", "Transport", "Version", "EventTypes"):
        v.required(spec, key)
    if spec["Transport"] not in v.TRANSPORTS:
        raise invalid(f"Value '{spec['Transport']}' at 'Notification.Transport' must be one of Email, SQS, SNS")
    events = spec["EventTypes"]
    if not isinstance(events, list) or not events or any(e not in v.EVENT_TYPES for e in events):
        raise invalid(f"Value '{events}' at 'Notification.EventTypes' holds an unknown event type")
    return {"Destination": spec["Destination"], "Transport": spec["Transport"], "Version": spec["Version"],
            "EventTypes": list(events)}
