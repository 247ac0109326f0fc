"""A project as the researcher describes it (JSON API, admin forms), validated into a ProjectSpec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pavilion.core import POLICIES, QueueConfig
from pavilion.runtime import platforms
from pavilion.runtime.errors import BadInput
from pavilion.runtime.pay import PAY_KEYS

QUEUE_KEYS = ("min_active", "max_active", "min_waiting", "max_waiting")
TASK_TEXT_KEYS = ("title", "description", "url", "instructions")
MAX_QUEUE = 1000
MAX_TEXT = 20_000
MAX_RATE = Decimal("1000")


@dataclass(frozen=True)
class ProjectSpec:
    """Everything needed to create a project; built only by `parse_project`."""

    name: str
    policy_name: str
    queues: QueueConfig
    platform_name: str
    platform_settings: dict[str, Any]
    pay: dict[str, str]
    task: dict[str, Any] = field(default_factory=dict)


def _mapping(data: Mapping[str, Any], key: str, required: bool = True) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise BadInput(f"{key} must be an object" if key in data else f"missing field {key!r}")
    return value


def _text(data: Mapping[str, Any], key: str, where: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise BadInput(f"missing field {where}{key!r}")
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{where}{key} must be a string")
    if len(value) > limit:
        raise BadInput(f"{where}{key} is longer than {limit} characters")
    return value.strip()


def _policy(data: Mapping[str, Any]) -> tuple[str, QueueConfig]:
    policy = _mapping(data, "policy")
    name = policy.get("name", "pavilion")
    if not isinstance(name, str) or name not in POLICIES:
        raise BadInput(f"policy.name must be one of {', '.join(sorted(POLICIES))}, got {name!r}")
    values: dict[str, int] = {}
    for key in QUEUE_KEYS:
        value = policy.get(key, 0 if key in ("min_waiting", "max_waiting") else None)
        if value is None:
            raise BadInput(f"missing field policy.{key}")
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadInput(f"policy.{key} must be an integer, got {value!r}")
        if value > MAX_QUEUE:
            raise BadInput(f"policy.{key} must be at most {MAX_QUEUE}, got {value}")
        values[key] = value
    unknown = set(policy) - {"name", *QUEUE_KEYS}
    if unknown:
        raise BadInput(f"policy.{sorted(unknown)[0]} is not a policy setting")
    try:
        return name, QueueConfig(**values)
    except ValueError as exc:
        raise BadInput(f"policy.{exc}") from None


def _pay(data: Mapping[str, Any]) -> dict[str, str]:
    pay = _mapping(data, "pay", required=False)
    unknown = set(pay) - set(PAY_KEYS)
    if unknown:
        raise BadInput(f"pay.{sorted(unknown)[0]} is not a pay setting (known: {', '.join(PAY_KEYS)})")
    out: dict[str, str] = {}
    for key in PAY_KEYS:
        value = pay.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise BadInput(f"pay.{key} must be a number, got {value!r}")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise BadInput(f"pay.{key} must be a number, got {value!r}") from None
        if not amount.is_finite() or amount < 0 or amount > MAX_RATE:
            raise BadInput(f"pay.{key} must be between 0 and {MAX_RATE}, got {value!r}")
        out[key] = str(amount)
    return out


def _task(data: Mapping[str, Any]) -> dict[str, Any]:
    task = _mapping(data, "task", required=False)
    unknown = set(task) - set(TASK_TEXT_KEYS) - {"max_waiting_s"}
    if unknown:
        raise BadInput(f"task.{sorted(unknown)[0]} is not a task setting")
    out: dict[str, Any] = {key: _text(task, key, "task.") for key in TASK_TEXT_KEYS if key in task}
    url = out.get("url", "")
    if url and not url.startswith(("http://", "https://", "/")):
        raise BadInput("task.url must be an http(s) URL or a path on this server")
    if "max_waiting_s" in task:
        value = task["max_waiting_s"]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise BadInput(f"task.max_waiting_s must be a number of seconds >= 0, got {value!r}")
        out["max_waiting_s"] = value
    return out


def parse_project(data: Any, default_platform: str = "local") -> ProjectSpec:
    """Validate a project description; BadInput names the first bad field."""
    if not isinstance(data, Mapping):
        raise BadInput("the request body must be a JSON object")
    name = _text(data, "name", "", required=True, limit=200)
    if not name:
        raise BadInput("name must not be empty")
    policy_name, queues = _policy(data)
    platform = _mapping(data, "platform", required=False)
    platform_name = platform.get("name", default_platform)
    if not isinstance(platform_name, str) or platform_name not in platforms.PLATFORMS:
        raise BadInput(f"platform.name must be one of {', '.join(sorted(platforms.PLATFORMS))}, got {platform_name!r}")
    settings = {k: v for k, v in platform.items() if k != "name"}
    try:
        settings = platforms.validate_settings(platform_name, settings)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return ProjectSpec(name, policy_name, queues, platform_name, settings, _pay(data), _task(data))
