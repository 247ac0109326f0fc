"""MTurk's error shapes: RequestError (400) and ServiceFault (500), each with a TurkErrorCode."""

from __future__ import annotations

from typing import Any


class MTurkError(Exception):
    """An error MTurk would answer with; `body(now)` is the JSON it sends."""

    def __init__(self, code: str, message: str, *, kind: str = "RequestError", status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind
        self.status = status

    def body(self, now: float) -> dict[str, Any]:
        """MTurk's body: messages end with the server time in epoch milliseconds."""
        out: dict[str, Any] = {"__type": self.kind, "Message": f"{self.message} ({int(now * 1000)})"}
        if self.code:
            out["TurkErrorCode"] = f"AWS.MechanicalTurk.{self.code}"
        return out


def request_error(code: str, message: str) -> MTurkError:
    """A RequestError (HTTP 400) with `AWS.MechanicalTurk.<code>`."""
    return MTurkError(code, message)


def invalid(message: str) -> MTurkError:
    """A parameter that breaks MTurk's own constraints (pattern, range, enum)."""
    return MTurkError("InvalidParameterValue", message)
