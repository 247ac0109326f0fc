"""Posting work on MTurk: one HIT type per project, HITs of at most 9 assignments, tokens from our own records."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pavilion.runtime.platforms.mturk.client import error_message, turk_code

# A HIT created with fewer than 10 assignments can never reach 10, and 10+ doubles the fee (40% instead of 20%).
MAX_PER_HIT = 9
EXTERNAL_QUESTION_NS = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd"
)
HIT_ID = re.compile(r"\b[0-9A-Z]{20,64}\b")
ANNOTATION_PREFIX = "pavilion-"  # RequesterAnnotation: pavilion-<run id>:<token>, at most 255 characters


@dataclass(frozen=True)
class HitSpec:
    """What every HIT of a project shares."""

    title: str
    description: str
    reward: str  # dollars, two decimals
    keywords: str
    assignment_duration_s: int
    auto_approval_delay_s: int
    lifetime_s: int
    task_url: str
    frame_height: int = 0


def external_question(url: str, frame_height: int = 0) -> str:
    return (
        f'<ExternalQuestion xmlns="{EXTERNAL_QUESTION_NS}"><ExternalURL>{html.escape(url)}</ExternalURL>'
        f"<FrameHeight>{frame_height}</FrameHeight></ExternalQuestion>"
    )


def chunks(count: int, size: int = MAX_PER_HIT) -> Iterator[int]:
    """Split `count` places into HITs of at most `size` assignments."""
    while count > 0:
        yield min(size, count)
        count -= size


def request_token(*parts: object) -> str:
    """A UniqueRequestToken (at most 64 characters) derived from our own record keys, so a retry repeats it."""
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:40]


def annotation(run_id: str, token: str) -> str:
    """A HIT's RequesterAnnotation (workers never see it): our project's run id, then the create's token."""
    return f"{ANNOTATION_PREFIX}{run_id}:{token}"


def annotated_for(hit: Mapping[str, Any], run_id: str) -> bool:
    """Whether a HIT (GetHIT's record) was created for the project with this run id."""
    return str(hit.get("RequesterAnnotation") or "").startswith(f"{ANNOTATION_PREFIX}{run_id}:")


def create_hit_type(client: Any, spec: HitSpec) -> str:
    """The title is the researcher's own: MTurk shares a HIT type between requests with equal attributes, so two
    equal projects may share one; each project's HITs are told apart by their ids and RequesterAnnotation."""
    return str(
        client.create_hit_type(
            Title=spec.title,
            Description=spec.description,
            Reward=spec.reward,
            Keywords=spec.keywords,
            AssignmentDurationInSeconds=spec.assignment_duration_s,
            AutoApprovalDelayInSeconds=spec.auto_approval_delay_s,
        )["HITTypeId"]
    )


def create_hit(client: Any, hit_type_id: str, spec: HitSpec, assignments: int, token: str, note: str) -> str:
    """Create one HIT annotated `note`; a repeated token means a previous attempt already created it, whose id we
    recover."""
    try:
        hit = client.create_hit_with_hit_type(
            HITTypeId=hit_type_id,
            MaxAssignments=assignments,
            LifetimeInSeconds=spec.lifetime_s,
            Question=external_question(spec.task_url, spec.frame_height),
            RequesterAnnotation=note,
            UniqueRequestToken=token,
        )["HIT"]
        return str(hit["HITId"])
    except Exception as exc:
        if turk_code(exc) not in ("HitAlreadyExists", "HITAlreadyExists"):
            raise
        found = HIT_ID.search(error_message(exc))
        if found:
            return found.group(0)
        return find_hit_by_annotation(client, note)


def find_hit_by_annotation(client: Any, note: str) -> str:
    for page in client.get_paginator("list_hits").paginate(PaginationConfig={"PageSize": 100}):
        for hit in page["HITs"]:
            if hit.get("RequesterAnnotation") == note:
                return str(hit["HITId"])
    raise LookupError(f"MTurk says a HIT annotated {note} exists, but no HIT carries it")


def expire_hit(client: Any, hit_id: str) -> None:
    """Expire now (ExpireAt in the past); workers who accepted keep their assignment until their deadline."""
    try:
        client.update_expiration_for_hit(HITId=hit_id, ExpireAt=0)
    except Exception as exc:
        # A repeat of the same call may be refused as already processed; the HIT is expired either way.
        if "has already been processed" not in error_message(exc) and turk_code(exc) != "HITDoesNotExist":
            raise
