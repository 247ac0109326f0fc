"""Between the project form and the stored project: form -> API-shaped dict (validated by parse_project) and back."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pavilion.runtime.admin.forms import QUEUE_FIELDS, ProjectForm
from pavilion.runtime.models import Project
from pavilion.runtime.pay import PAY_KEYS

# Which form field a "policy.min_active ..." / "pay.reward ..." / "platform.x ..." message from parse_project names.
_PREFIXES: dict[str, str] = {
    **{f"policy.{name}": name for name in QUEUE_FIELDS},
    "policy.name": "policy",
    **{f"pay.{key}": key for key in PAY_KEYS},
    "task.url": "task_url",
    "task.description": "description",
    "task.max_waiting_s": "max_waiting_s",
    "platform.name": "platform",
    "platform.": "platform_settings",
    "name": "name",
}


def form_to_data(form: ProjectForm) -> dict[str, Any]:
    """The project as the JSON API describes it (section 8 of DESIGN.md)."""
    task: dict[str, Any] = {"title": form.name.data or "", "description": form.description.data or ""}
    if form.task_url.data:
        task["url"] = form.task_url.data
    task["max_waiting_s"] = int(form.max_waiting_s.data or 0)
    return {
        "name": form.name.data or "",
        "policy": {"name": form.policy.data, **form.queue_sizes()},
        "platform": {**form.settings(), "name": form.platform.data},
        "pay": {key: str(getattr(form, key).data) for key in PAY_KEYS},
        "task": task,
    }


def field_for(message: str) -> str:
    """The form field a validation message from parse_project is about (the settings box when unsure)."""
    for prefix, name in sorted(_PREFIXES.items(), key=lambda item: -len(item[0])):
        if message.startswith(prefix):
            return name
    return "platform_settings"


def project_to_formdata(project: Project) -> dict[str, Any]:
    """Initial values of the edit form."""
    settings = dict(project.platform_settings)
    return {
        "name": project.name,
        "description": project.task.get("description", ""),
        "policy": project.policy_name,
        **{name: int(project.policy_params.get(name, 0)) for name in QUEUE_FIELDS},
        "platform": project.platform_name,
        "platform_settings": json.dumps(settings, indent=2) if settings else "",
        **{key: Decimal(str(project.pay.get(key, "0"))) for key in PAY_KEYS},
        "task_url": project.task.get("url", ""),
        "max_waiting_s": int(project.task.get("max_waiting_s", 0)),
    }
