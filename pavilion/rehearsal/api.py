"""The server's JSON admin API (DESIGN section 8), as the rehearsal uses it: create, launch, stop, read, export."""

from __future__ import annotations

import time
from typing import Any

import httpx

from pavilion.errors import InputError
from pavilion.sim import Scenario

MAX_RATE = 1000.0  # the server's limit on one pay rate (USD); wages scaled past it are capped (the ledger only)
RETRY_S = 30.0  # the API is retried this long while the server restarts (chaos)


class Api:
    """`Authorization: Bearer <token>` calls; errors name the call and the server's message."""

    def __init__(self, server_url: str, token: str) -> None:
        self.http = httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        deadline = time.monotonic() + RETRY_S
        while True:
            try:
                response = self.http.request(method, path, json=body)
                break
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise InputError(f"{method} {path}: the server cannot be reached ({type(exc).__name__})") from None
                time.sleep(0.1)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text[:200]
            raise InputError(f"{method} {path}: {response.status_code} {message}")
        return response.json() if response.headers.get("content-type", "").startswith("application/json") else \
            response.text

    def create_project(self, scenario: Scenario, platform: dict[str, Any], time_scale: float) -> int:
        """A project with the scenario's policy and pay (wages per scaled hour); any waiting worker may submit."""
        p = scenario.policy
        pay = scenario.payment
        body = {
            "name": f"rehearsal of {scenario.name} (time x{time_scale:g})",
            "policy": {"name": p.name, "min_active": p.min_active, "max_active": p.max_active,
                       "min_waiting": p.min_waiting, "max_waiting": p.max_waiting},
            "platform": platform,
            "pay": {"reward": f"{pay.reward:.2f}",
                    "waiting_wage_per_hour": f"{min(MAX_RATE, pay.waiting_wage_per_hour):.2f}",
                    "active_wage_per_hour": f"{min(MAX_RATE, pay.active_wage_per_hour):.2f}"},
            # The model lets a waiting worker leave with pay whenever patience runs out: no minimum wait.
            "task": {"title": "Rehearsal", "max_waiting_s": 0},
        }
        return int(self.call("POST", "/api/projects", body)["id"])

    def launch(self, project_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/api/projects/{project_id}/launch")
        return result

    def stop(self, project_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/api/projects/{project_id}/stop")
        return result

    def snapshot(self, project_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/api/projects/{project_id}")
        return result

    def events_csv(self, project_id: int) -> str:
        return str(self.call("GET", f"/api/projects/{project_id}/events.csv"))

    def close(self) -> None:
        self.http.close()
