"""Webhook set-up on Prolific: the workspace's signing secret (kept in memory only) and confirmed subscriptions."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pavilion.runtime.platforms.base import PlatformError
from pavilion.runtime.platforms.prolific.client import ProlificClient


class HookSetup:
    """Finds the workspace, its signing secret and our subscriptions; creates what is missing."""

    def __init__(self, client: ProlificClient, workspace_id: str | None, secret: str = "") -> None:
        self.client = client
        self._workspace = workspace_id
        self._secret = secret
        self._lock = threading.Lock()

    def workspace(self) -> str:
        if self._workspace is None:
            listed = self.client.call("GET", "workspaces/", retry=True).get("results") or []
            if not listed:
                raise PlatformError("this Prolific token sees no workspace", transient=False)
            self._workspace = str(listed[0]["id"])
        return self._workspace

    def secret(self) -> str:
        """The signing secret: from the configuration, else the workspace's current one, else a new one."""
        with self._lock:
            if not self._secret:
                workspace = self.workspace()
                listed = self.client.call("GET", "hooks/secrets/", params={"workspace_id": workspace}, retry=True)
                found = (listed or {}).get("results") or []
                if found:
                    self._secret = str(found[-1]["value"])
                else:
                    created = self.client.call("POST", "hooks/secrets/", {"workspace_id": workspace})
                    self._secret = str(created["value"])
            return self._secret

    def subscribe(self, target_url: str, event_types: Sequence[str]) -> list[str]:
        """Subscription ids for `target_url`, one per event type, created and confirmed when missing."""
        workspace = self.workspace()
        self.secret()
        listed = self.client.call("GET", "hooks/subscriptions/", params={"workspace_id": workspace}, retry=True)
        rows = (listed or {}).get("results", [])
        existing = {(s["event_type"], s["target_url"]): str(s["id"]) for s in rows if s["is_enabled"]}
        ids = []
        for event_type in event_types:
            found = existing.get((event_type, target_url))
            if found is None:
                found = self._create(workspace, event_type, target_url)
            ids.append(found)
        return ids

    def _create(self, workspace: str, event_type: str, target_url: str) -> str:
        body = {"workspace_id": workspace, "event_type": event_type, "target_url": target_url}
        response = self.client.raw("POST", "hooks/subscriptions/", body)
        sub_id = str(response.json()["id"])
        hook_secret = response.headers.get("X-Hook-Secret", "")
        self.client.call("POST", f"hooks/subscriptions/{sub_id}/", {"secret": hook_secret}, retry=True)
        return sub_id
