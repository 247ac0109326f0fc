"""The emulator over HTTP: auth, error shape, paginated lists, bonuses, faults, and the control routes."""

from __future__ import annotations

import httpx
import pytest

from pavilion.emulators.prolific.driver import EmulatorDriver
from pavilion.emulators.prolific.server import RunningEmulator

from .conftest import new_study

pytestmark = pytest.mark.timeout(30)


def test_requests_without_the_token_get_401_in_prolifics_error_shape(running: RunningEmulator) -> None:
    response = httpx.get(f"{running.api_url}studies/", headers={"Authorization": "Token wrong"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["status"] == 401 and error["title"] == "Unauthorized" and error["detail"]
    assert set(error) >= {"error_code", "additional_information", "traceback", "interactive"}


def test_a_bad_draft_names_the_field(api: httpx.Client) -> None:
    response = api.post("studies/", json={"name": "x", "reward": 1.5})
    assert response.status_code == 400
    detail = response.json()["error"]["detail"]
    assert "reward" in detail and "external_study_url" in detail


def test_study_lifecycle_over_http(api: httpx.Client, driver: EmulatorDriver) -> None:
    study = new_study(api, places=1)
    assert study["status"] == "ACTIVE"
    sub = driver.reserve(study["id"], "p1")
    assert api.get(f"studies/{study['id']}/").json()["status"] == "AWAITING REVIEW"
    assert api.patch(f"studies/{study['id']}/", json={"total_available_places": 2}).json()["status"] == "ACTIVE"
    refused = api.patch(f"studies/{study['id']}/", json={"total_available_places": 1})
    assert refused.status_code == 400 and "total_available_places" in refused.json()["error"]["detail"]
    driver.start(sub["id"])
    got = api.get(f"submissions/{sub['id']}/").json()
    assert (got["study_id"], got["participant"], got["status"]) == (study["id"], "p1", "ACTIVE")
    done = api.post(f"submissions/{sub['id']}/transition/", json={"action": "COMPLETE", "completion_code": "DONE"})
    assert done.json()["status"] == "AWAITING REVIEW"
    counts = api.get(f"studies/{study['id']}/submissions/counts/").json()
    assert counts["AWAITING REVIEW"] == 1 and counts["TOTAL"] == 1


def test_submission_lists_paginate_and_end_with_a_404(api: httpx.Client, driver: EmulatorDriver) -> None:
    study = new_study(api, places=5)
    subs = [driver.reserve(study["id"], f"p{i}") for i in range(5)]
    driver.return_submission(subs[0]["id"])
    seen: list[str] = []
    url: str | None = f"submissions/?study={study['id']}&page_size=2"
    pages = 0
    while url:
        body = api.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url = body["_links"]["next"]["href"] if body["_links"]["next"] else None
        pages += 1
    assert pages == 3 and seen == [s["id"] for s in subs]
    assert api.get(f"submissions/?study={study['id']}&page_size=2&page=4").status_code == 404
    returned = api.get(f"submissions/?study={study['id']}&status=returned").json()["results"]
    assert [r["id"] for r in returned] == [subs[0]["id"]]


def test_bulk_approve_is_asynchronous(api: httpx.Client, driver: EmulatorDriver) -> None:
    driver.settings(approve_lag_s=30)
    study = new_study(api)
    sub = driver.complete(driver.start(driver.reserve(study["id"])["id"])["id"], "PART")
    assert api.post("submissions/bulk-approve/", json={"submission_ids": [sub["id"]]}).status_code == 202
    assert api.get(f"submissions/{sub['id']}/").json()["status"] == "AWAITING REVIEW"
    driver.advance(30)
    assert api.get(f"submissions/{sub['id']}/").json()["status"] == "APPROVED"


def test_two_step_bonus_pays_again_on_every_pay_call(api: httpx.Client, driver: EmulatorDriver) -> None:
    study = new_study(api)
    sub = driver.reserve(study["id"], "p1")
    bad = api.post("submissions/bonus-payments/", json={"study_id": study["id"], "csv_bonuses": "ghost,1.00"})
    assert bad.status_code == 400 and "ghost" in str(bad.json()["error"]["detail"])
    setup = api.post("submissions/bonus-payments/", json={"study_id": study["id"], "csv_bonuses": "p1,0.75"})
    assert setup.status_code == 201
    batch = setup.json()
    assert batch["amount"] == 75 and batch["total_amount"] == batch["amount"] + batch["fees"] + batch["vat"]
    for _ in range(2):
        assert api.post(f"bulk-bonus-payments/{batch['id']}/pay/").status_code == 202
    assert api.get(f"submissions/{sub['id']}/").json()["bonus_payments"] == [75, 75]
    assert driver.payments()["by_participant"] == {"p1": 150}


def test_injected_faults_before_and_after_the_call(api: httpx.Client, driver: EmulatorDriver) -> None:
    study = new_study(api)
    driver.fault("GET", f"/api/v1/studies/{study['id']}/", 429)
    assert api.get(f"studies/{study['id']}/").status_code == 429
    assert api.get(f"studies/{study['id']}/").status_code == 200
    driver.reserve(study["id"], "p1")
    batch = api.post("submissions/bonus-payments/", json={"study_id": study["id"], "csv_bonuses": "p1,1"}).json()
    driver.fault("POST", "/api/v1/bulk-bonus-payments/", 502, after=True)
    lost = api.post(f"bulk-bonus-payments/{batch['id']}/pay/")
    assert lost.status_code == 502  # the answer is lost, but the payment went through
    assert driver.payments()["by_participant"] == {"p1": 100}
    assert [j["status"] for j in driver.journal()][-1] == 502


def test_the_clock_only_moves_when_told(api: httpx.Client, driver: EmulatorDriver) -> None:
    study = new_study(api)
    sub = driver.reserve(study["id"])
    driver.advance(599)
    assert api.get(f"submissions/{sub['id']}/").json()["status"] == "RESERVED"
    driver.advance(1)
    assert api.get(f"submissions/{sub['id']}/").json()["status"] == "TIMED-OUT"
