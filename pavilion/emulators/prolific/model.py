"""The emulator's records: studies, submissions, bonus batches, and the status names Prolific uses (with spaces)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Study statuses.
UNPUBLISHED = "UNPUBLISHED"
ACTIVE = "ACTIVE"
PAUSED = "PAUSED"
AWAITING_REVIEW = "AWAITING REVIEW"
COMPLETED = "COMPLETED"

# Submission statuses (ACTIVE and AWAITING REVIEW are shared with studies).
RESERVED = "RESERVED"
RETURNED = "RETURNED"
TIMED_OUT = "TIMED-OUT"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
PROCESSING = "PROCESSING"
SUBMISSION_STATUSES = (RESERVED, ACTIVE, RETURNED, TIMED_OUT, AWAITING_REVIEW, APPROVED, REJECTED, PROCESSING)

# A submission in one of these holds (or has used up) a place; the others give the place back.
HOLDS_PLACE = frozenset({RESERVED, ACTIVE, AWAITING_REVIEW, APPROVED, PROCESSING})
# Still to be decided by the participant or the researcher: a stopped study completes when none is left.
UNDECIDED = frozenset({RESERVED, ACTIVE, AWAITING_REVIEW, PROCESSING})

RESERVATION_S = 600.0  # a reserved place is held 10 minutes for the participant to start

CODE_TYPES = frozenset({"COMPLETED", "FAILED_ATTENTION_CHECK", "NO_CONSENT", "OTHER", "FIXED_SCREENOUT"})
CODE_ACTIONS = frozenset(
    {
        "AUTOMATICALLY_APPROVE",
        "MANUALLY_REVIEW",
        "ADD_TO_PARTICIPANT_GROUP",
        "REMOVE_FROM_PARTICIPANT_GROUP",
        "REQUEST_RETURN",
        "DYNAMIC_PAYMENT",
        "FIXED_SCREEN_OUT_PAYMENT",
    }
)
REJECTION_CATEGORIES = frozenset(
    {
        "TOO_QUICKLY",
        "TOO_SLOWLY",
        "FAILED_INSTRUCTIONS",
        "INCOMP_LONGITUDINAL",
        "FAILED_CHECK",
        "LOW_EFFORT",
        "MALINGERING",
        "NO_CODE",
        "BAD_CODE",
        "NO_DATA",
        "UNSUPP_DEVICE",
        "OTHER",
    }
)


def normalise_status(text: str) -> str:
    """Prolific's status filters are case-insensitive and accept `_` for spaces (AWAITING_REVIEW)."""
    upper = text.strip().upper().replace("_", " ")
    return TIMED_OUT if upper in {"TIMED OUT", TIMED_OUT} else upper


@dataclass
class Study:
    """A study and the fields the emulator checks; `fields` keeps everything else the researcher sent."""

    id: str
    workspace_id: str
    name: str
    internal_name: str
    external_study_url: str
    completion_codes: list[dict[str, Any]]
    total_available_places: int
    reward: int  # pence / cents
    estimated_completion_time: int  # minutes
    maximum_allowed_time: int  # minutes
    created_at: float
    fields: dict[str, Any]
    status: str = UNPUBLISHED
    stopped: bool = False  # STOP is final, even though the status reads AWAITING REVIEW until all is reviewed
    published_at: float | None = None

    def code(self, code: str) -> dict[str, Any] | None:
        """The completion code entry with this code, if the study has one."""
        return next((c for c in self.completion_codes if c.get("code") == code), None)


@dataclass
class Submission:
    """One participant's attempt at one study (SESSION_ID in the study URL)."""

    id: str
    study_id: str
    participant_id: str
    reserved_at: float
    status: str = RESERVED
    started_at: float | None = None
    completed_at: float | None = None
    entered_code: str | None = None
    return_requested: bool = False
    bonus_payments: list[int] = field(default_factory=list)  # cents, as credited
    settles_to: str | None = None  # while PROCESSING: the status it lands on
    settles_at: float = 0.0


@dataclass
class BonusBatch:
    """A bonus set-up (step one); every call to its pay step pays every line again."""

    id: str
    study_id: str
    lines: list[tuple[str, int]]  # (submission id, cents)
    amount: int
    fees: int
    vat: int
    created_at: float
    pay_calls: int = 0

    @property
    def total_amount(self) -> int:
        return self.amount + self.fees + self.vat


@dataclass
class HookEvent:
    """One webhook event, before it is fanned out to subscriptions."""

    id: str
    event_type: str
    resource_id: str
    payload: dict[str, Any]
    at: float


@dataclass
class Subscription:
    """A webhook subscription; it receives nothing until confirmed with its X-Hook-Secret."""

    id: str
    workspace_id: str
    event_type: str
    target_url: str
    hook_secret: str
    confirmed: bool = False
    is_enabled: bool = True
    deliveries: list[dict[str, Any]] = field(default_factory=list)
