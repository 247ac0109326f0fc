"""A project's own task content: its URL, or a Jinja template the researcher keeps in `instance/tasks/<id>.html`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from pavilion.runtime.models import Assignment, Project
from pavilion.runtime.task_tokens import TaskTokens, with_task_params
from pavilion.runtime.tokens import WorkerClaim

TEMPLATE_FOLDER = "tasks"


def template_path(instance_path: str, project_id: int) -> Path:
    """Where the researcher puts a project's task template (a file on the server, never uploaded by workers)."""
    return Path(instance_path) / TEMPLATE_FOLDER / f"{int(project_id)}.html"


def content_path(project_id: int) -> str:
    """The address the worker page frames for a project's template."""
    return f"/task/{int(project_id)}/content"


def task_url_for(instance_path: str, tokens: TaskTokens) -> Callable[[Project, Assignment], str]:
    """The service's `task_url`: the project's URL, else its template if there is one, else '' (the demo task);
    a URL carries pavilion_worker, pavilion_assignment and a fresh pavilion_task_token (see task_tokens)."""

    def task_url(project: Project, assignment: Assignment) -> str:
        url = str(project.task.get("url", ""))
        if not url and template_path(instance_path, project.id).is_file():
            url = content_path(project.id)
        if not url:
            return ""
        claim = WorkerClaim(project.id, assignment.key, assignment.worker.platform_worker_id)
        return with_task_params(url, claim, tokens.issue(claim))

    return task_url


def render_template_file(instance_path: str, project_id: int, context: dict[str, Any]) -> str | None:
    """The project's template rendered in Jinja's sandbox with autoescaping; None when there is none."""
    path = template_path(instance_path, project_id)
    if not path.is_file():
        return None
    env = SandboxedEnvironment(loader=FileSystemLoader(str(path.parent)), autoescape=select_autoescape(["html"]))
    return env.get_template(path.name).render(**context)
