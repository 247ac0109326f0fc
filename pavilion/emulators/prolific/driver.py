"""An httpx client for the emulator's control routes: act as participants, move the clock, bend webhooks."""

from __future__ import annotations

from typing import Any

import httpx


class EmulatorDriver:
    """Drives a running emulator (in a thread or started with `pavilion emulate prolific`) from the outside."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self._http = httpx.Client(base_url=f"{url.rstrip('/')}/_emulator", timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.post(path, json=body or {})
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def _get(self, path: str) -> dict[str, Any]:
        response = self._http.get(path)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    # -- participants ---------------------------------------------------------------------------------------
    def reserve(self, study_id: str, participant_id: str | None = None) -> dict[str, Any]:
        """A participant takes a place: returns the submission (its `id` is the SESSION_ID) and its `study_url`."""
        return self._post(f"/studies/{study_id}/reserve", {"participant_id": participant_id})

    def start(self, submission_id: str) -> dict[str, Any]:
        """The participant opens the study on Prolific: RESERVED -> ACTIVE."""
        return self._post(f"/submissions/{submission_id}/start")

    def return_submission(self, submission_id: str) -> dict[str, Any]:
        return self._post(f"/submissions/{submission_id}/return")

    def time_out(self, submission_id: str) -> dict[str, Any]:
        return self._post(f"/submissions/{submission_id}/time-out")

    def complete(self, submission_id: str, code: str) -> dict[str, Any]:
        return self._post(f"/submissions/{submission_id}/complete", {"code": code})

    # -- the platform ---------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> float:
        return float(self._post("/clock/advance", {"seconds": seconds})["now"])

    def switches(self, **values: Any) -> dict[str, Any]:
        return self._post("/hooks/switches", values)

    def flush(self) -> int:
        return int(self._post("/hooks/flush")["sent"])

    def fault(self, method: str, path: str, status: int, times: int = 1, after: bool = False) -> None:
        self._post("/faults", {"method": method, "path": path, "status": status, "times": times, "after": after})

    def settings(self, **values: float) -> dict[str, Any]:
        return self._post("/settings", values)

    def journal(self) -> list[dict[str, Any]]:
        return list(self._get("/journal")["results"])

    def payments(self) -> dict[str, Any]:
        return self._get("/payments")
