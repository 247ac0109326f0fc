"""Prolific's error shapes: the usual `{"error": {...}}` body and the older `{"message", "detail"}` one."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

# Prolific's numeric error codes are undocumented; the emulator uses one per HTTP status so tests can match on it.
_ERROR_CODES = {400: 140100, 401: 140101, 403: 140103, 404: 140104, 405: 140105, 409: 140109, 429: 140129}


class ApiError(Exception):
    """An API refusal: HTTP status plus the detail Prolific would give (a string or a field -> messages map)."""

    def __init__(self, status: int, detail: str | dict[str, list[str]], additional: str = "") -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.additional = additional


def error_body(status: int, detail: Any, additional: str = "") -> dict[str, Any]:
    """The body of an error response in Prolific's main shape."""
    return {
        "error": {
            "status": status,
            "title": HTTPStatus(status).phrase,
            "error_code": _ERROR_CODES.get(status, 140000 + status),
            "detail": detail,
            "additional_information": additional,
            "traceback": "",
            "interactive": False,
        }
    }


def message_body(status: int, detail: Any) -> dict[str, Any]:
    """The older error shape some endpoints (and gateways) still answer with."""
    return {"message": HTTPStatus(status).phrase, "detail": detail}
