"""Prolific's HTTP API through httpx: token auth, backoff on 429/5xx where a retry is safe, Prolific's error detail."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from pavilion.runtime.platforms.base import PlatformError

DEFAULT_API_URL = "https://api.prolific.com/api/v1/"


class ProlificError(PlatformError):
    """A refused or failed call; `status` is the HTTP status (0: no answer) and `detail` Prolific's own words."""

    def __init__(self, what: str, status: int, detail: str) -> None:
        transient = status == 0 or status == 429 or status >= 500
        super().__init__(f"Prolific {what} failed ({status or 'no answer'}): {detail}", transient=transient)
        self.status = status
        self.detail = detail

    @property
    def answered(self) -> bool:
        """True when Prolific answered with an error, so the call certainly had no effect (4xx, 429)."""
        return 400 <= self.status < 500


def error_detail(response: httpx.Response) -> str:
    """Prolific's error detail from either body shape (`{"error": {...}}` or `{"message", "detail"}`)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        inner: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else body
        detail = inner.get("detail") or inner.get("message") or inner.get("title")
        if isinstance(detail, dict):
            return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in detail.items())
        if detail:
            return str(detail)
    return str(body)[:300]


class ProlificClient:
    """One researcher token against one API base URL. `retry=True` only for calls that are safe to repeat."""

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        max_attempts: int = 6,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        timeout_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not token:
            raise PlatformError("no Prolific API token: set PAVILION_PROLIFIC_TOKEN", transient=False)
        self.base = api_url if api_url.endswith("/") else api_url + "/"
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.sleep = sleep
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        self._http = httpx.Client(base_url=self.base, headers=headers, timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        retry: bool = False,
    ) -> Any:
        """The decoded JSON answer (None when empty); ProlificError otherwise, after backoff when `retry`."""
        response = self.raw(method, path, body, params, retry)
        return response.json() if response.content else None

    def raw(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        retry: bool = False,
    ) -> httpx.Response:
        """The successful response itself (for its headers); 429, 5xx and no answer are retried only when `retry`."""
        what = f"{method} {path}"
        attempts = self.max_attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.request(method, path.lstrip("/"), json=body, params=params)
            except httpx.HTTPError as exc:
                error = ProlificError(what, 0, f"{type(exc).__name__}: {exc}")
            else:
                if response.is_success:
                    return response
                error = ProlificError(what, response.status_code, error_detail(response))
            if not error.transient or attempt == attempts:
                raise error
            self.sleep(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")

    def pages(self, path: str, params: dict[str, Any], page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every item of a `page`/`page_size` list, following `_links.next` until it is null."""
        page = 1
        while True:
            body = self.call("GET", path, params={**params, "page": page, "page_size": page_size}, retry=True)
            yield from body.get("results", [])
            if not (body.get("_links") or {}).get("next"):
                return
            page += 1
