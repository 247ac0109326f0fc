"""The `/admin` socket's payloads are checked before anything reads the database."""

import pytest

from pavilion.runtime.admin.dashboard import parse_watch


def test_a_well_formed_payload_is_accepted() -> None:
    assert parse_watch({"project_id": 3}) == (3, 0)
    assert parse_watch({"project_id": 3, "after": 17}) == (3, 17)


@pytest.mark.parametrize(
    "payload",
    [None, 3, "3", [], {}, {"project_id": "3"}, {"project_id": True}, {"project_id": -1}, {"project_id": 2**40},
     {"project_id": 1.0}, {"project_id": 1, "after": -5}, {"project_id": 1, "room": "project:2"}],
)
def test_anything_else_is_refused(payload: object) -> None:
    with pytest.raises(ValueError):
        parse_watch(payload)
