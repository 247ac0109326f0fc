"""Untrusted text and JSON, checked once for every API body and admin form: depth, encoding, control characters."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DataError

from pavilion.runtime.errors import BadInput

MAX_DEPTH = 32  # a project description nests 3 deep; ~1,000 levels used to raise RecursionError (a 500)
# C0 controls but tab, newline and carriage return; DEL and C1; lone UTF-16 surrogates (no UTF-8 form, so
# neither SQLite nor PostgreSQL can store them). NUL is among the C0 controls (PostgreSQL refuses it in text).
_BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why this text cannot be accepted (a control character, a lone surrogate), or None when it is fine."""
    found = _BAD_CHARACTER.search(value)
    if found is None:
        return None
    code = ord(found.group())
    kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"contains {kind} (U+{code:04X}) at position {found.start()}"


def check_text(value: str, where: str) -> str:
    """The text itself, or BadInput naming the field and the offending character."""
    problem = text_problem(value)
    if problem is not None:
        raise BadInput(f"{where} {problem}")
    return value


def check_tree(value: Any, where: str = "body", depth: int = 0) -> None:
    """Every key and string of a decoded JSON value is clean text, and it nests at most MAX_DEPTH deep."""
    if depth > MAX_DEPTH:
        raise BadInput(f"the JSON nests deeper than {MAX_DEPTH} levels (at {where})")
    if isinstance(value, str):
        check_text(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f"a key of {where}")
            check_tree(item, f"{where}.{key}" if where != "body" else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_tree(item, f"{where}[{index}]", depth + 1)


def loads_json(raw: bytes | str, where: str = "the request body", expected: str = "JSON") -> Any:
    """Decode untrusted JSON; BadInput (a 400) for bad UTF-8, bad JSON, deep nesting, or unstorable text."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{where} is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadInput(f"{where} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise BadInput(f"{where} is not valid JSON ({exc}); it must be {expected}") from None
    check_tree(value, "body" if where == "the request body" else where)
    return value


def request_object(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object (DESIGN.md section 8); `{}` for an empty body when optional."""
    if not request.get_data(cache=True) and optional:
        return {}
    if not request.is_json:
        raise BadInput("the request body must be JSON (Content-Type: application/json)")
    data = loads_json(request.get_data(cache=True), expected="a JSON object")
    if not isinstance(data, dict):
        raise BadInput("the request body must be a JSON object")
    return data


def _bad_request(message: str) -> Any:
    if request.path.startswith("/api/"):
        response: Response = jsonify(error=message)
        response.status_code = 400
        return response
    return message, 400, {"Content-Type": "text/plain; charset=utf-8"}


def init_app(app: Flask) -> None:
    """Last line of defence: text that slipped past the checks above is still a 400 naming the problem, never a 500."""

    @app.errorhandler(RecursionError)
    def too_deep(exc: RecursionError) -> Any:
        return _bad_request("the input nests too deeply")

    @app.errorhandler(UnicodeError)
    def unencodable(exc: UnicodeError) -> Any:
        return _bad_request("the input holds text that cannot be encoded (a lone surrogate?)")

    @app.errorhandler(DataError)
    def refused_by_database(exc: DataError) -> Any:
        # PostgreSQL refuses a NUL in text, an out-of-range number, ...: bad input, and the transaction rolled back.
        return _bad_request("the database refused a value of the input (a NUL character or an out-of-range number?)")
