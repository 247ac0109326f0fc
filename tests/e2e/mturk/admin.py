"""The researcher at the admin pages (login, new project, launch/expire/stop buttons, ledger), with CSRF tokens."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class AdminBrowser:
    def __init__(self, server: str) -> None:
        self.http = httpx.Client(base_url=server, timeout=30, follow_redirects=False)

    def _csrf(self, path: str) -> str:
        page = self.http.get(path)
        assert page.status_code == 200, (path, page.status_code)
        found = CSRF.search(page.text)
        assert found, f"no CSRF token on {path}"
        return html.unescape(found.group(1))

    def login(self, username: str, password: str) -> None:
        token = self._csrf("/admin/login")
        done = self.http.post("/admin/login", data={"username": username, "password": password, "csrf_token": token})
        assert done.status_code in (302, 303), done.text[:500]

    def new_project(self, fields: dict[str, Any]) -> int:
        token = self._csrf("/admin/projects/new")
        done = self.http.post("/admin/projects/new", data={**{k: str(v) for k, v in fields.items()},
                                                           "csrf_token": token})
        assert done.status_code in (302, 303), done.text[:2000]
        return int(done.headers["location"].rstrip("/").split("/")[-1])

    def press(self, project_id: int, button: str) -> None:
        token = self._csrf(f"/admin/projects/{project_id}")
        done = self.http.post(f"/admin/projects/{project_id}/{button}", data={"csrf_token": token})
        assert done.status_code in (302, 303), done.text[:500]
        follow = self.http.get(done.headers["location"])
        assert "flash-error" not in follow.text, follow.text[:2000]

    def ledger(self, project_id: int) -> str:
        return self.http.get(f"/admin/projects/{project_id}/ledger").text
