"""The JSON admin API (DESIGN.md section 8) described as OpenAPI 3.1, served at GET /api/openapi.json."""

from __future__ import annotations

from typing import Any

from pavilion.runtime.exports import ASSIGNMENT_COLUMNS, LEDGER_COLUMNS
from pavilion.runtime.pay import PAY_KEYS
from pavilion.runtime.projects import MAX_QUEUE, QUEUE_KEYS, TASK_TEXT_KEYS

_ERROR = {"$ref": "#/components/schemas/Error"}
_SNAPSHOT = {"$ref": "#/components/schemas/Snapshot"}
_ID = {"name": "project_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    meaning = {"400": "bad input (the message names the field)", "401": "missing, invalid or revoked token",
               "404": "no such project, or not this token's", "409": "the project's state does not allow it",
               "413": "request body too large"}
    return {code: {"description": meaning[code], **_json(_ERROR)} for code in codes}


def _command(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A POST on one project answering its snapshot."""
    operation: dict[str, Any] = {
        "summary": summary, "parameters": [_ID],
        "responses": {"200": {"description": "the project's snapshot", **_json(_SNAPSHOT)},
                      **_errors("400", "401", "404", "409", "413")},
    }
    operation["requestBody"] = {"required": body is not None,
                                **_json(body or {"type": "object", "additionalProperties": False})}
    return {"post": operation}


def _schemas() -> dict[str, Any]:
    money = {"oneOf": [{"type": "number", "minimum": 0, "maximum": 1000},
                       {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}]}
    queue = {"type": "integer", "minimum": 0, "maximum": MAX_QUEUE}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "Policy": {"type": "object", "required": ["min_active", "max_active"], "additionalProperties": False,
                   "properties": {"name": {"type": "string", "enum": ["pavilion", "on-demand"]},
                                  **{key: queue for key in QUEUE_KEYS}}},
        "Platform": {"type": "object", "properties": {"name": {"type": "string",
                                                                "enum": ["local", "mturk", "prolific"]}},
                     "description": "the platform's own non-secret settings besides its name"},
        "Pay": {"type": "object", "additionalProperties": False, "properties": {key: money for key in PAY_KEYS},
                "description": "US dollars (decimal strings or numbers) per submission and per hour"},
        "Task": {"type": "object", "additionalProperties": False,
                 "properties": {**{key: {"type": "string", "maxLength": 20_000} for key in TASK_TEXT_KEYS},
                                "max_waiting_s": {"type": "number", "minimum": 0}}},
        "NewProject": {"type": "object", "required": ["name", "policy"],
                       "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200},
                                      "policy": {"$ref": "#/components/schemas/Policy"},
                                      "platform": {"$ref": "#/components/schemas/Platform"},
                                      "pay": {"$ref": "#/components/schemas/Pay"},
                                      "task": {"$ref": "#/components/schemas/Task"}}},
        "Snapshot": {"type": "object", "required": ["id", "status", "waiting", "active", "counts"],
                     "properties": {"id": {"type": "integer"},
                                    "status": {"type": "string", "enum": ["draft", "live", "expired", "stopped"]},
                                    "waiting": {"type": "array", "items": {"type": "string"}},
                                    "active": {"type": "array", "items": {"type": "string"}},
                                    "counts": {"type": "object"}}},
        "ProjectState": {"allOf": [{"$ref": "#/components/schemas/Snapshot"}, {
            "type": "object", "required": ["workers", "ready_latency_s"],
            "properties": {"workers": {"type": "object", "description": "queued worker id -> platform ids, queue "
                                       "and times", "additionalProperties": {"$ref": "#/components/schemas/Stint"}},
                           "ready_latency_s": {"$ref": "#/components/schemas/Latency"}}}]},
        "Stint": {"type": "object", "required": ["platform_worker_id", "platform_assignment_id", "queue"],
                  "properties": {"platform_worker_id": {"type": "string"}, "platform_assignment_id": {"type": "string"},
                                 "queue": {"type": "string"}, "joined_at": {"type": ["string", "null"]},
                                 "promoted_at": {"type": ["string", "null"]}}},
        "Latency": {"type": "object", "required": ["count", "p50", "p90", "max"],
                    "description": "seconds from promotion to the page's ready, over the promotions that got one",
                    "properties": {"count": {"type": "integer", "minimum": 0},
                                   **{k: {"type": ["number", "null"]} for k in ("p50", "p90", "max")}}},
        "ProjectSummary": {"type": "object", "required": ["id", "name", "status", "platform", "counts"],
                           "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                          "status": {"type": "string"}, "policy": {"type": "object"},
                                          "platform": {"type": "string"}, "counts": {"type": "object"},
                                          **{k: {"type": ["string", "null"]}
                                             for k in ("created_at", "launched_at", "stopped_at")}}},
        "Migrate": {"type": "object", "required": ["worker_id"], "additionalProperties": False,
                    "properties": {"worker_id": {"type": "string", "minLength": 1, "maxLength": 32},
                                   "force": {"type": "boolean", "default": False}}},
    }


def _csv_export(summary: str, columns: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": [_ID],
                    "responses": {"200": {"description": columns,
                                          "content": {"text/csv": {"schema": {"type": "string"}}}},
                                  **_errors("401", "404")}}}


def openapi_document() -> dict[str, Any]:
    """The whole description: every route under /api, its body, its answers and its errors."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pavilion JSON admin API", "version": "1",
                 "description": "Scripted experiments (DESIGN.md section 8). A token acts only on the projects "
                                "of the admin it was made for; errors are {\"error\": ...} with a 4xx status."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": _schemas()},
        "paths": {
            "/api/projects": {"get": {
                "summary": "the token's admin's projects, oldest first",
                "parameters": [{"name": "status", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["draft", "live", "expired", "stopped"]}}],
                "responses": {"200": {"description": "one entry per project", **_json({
                    "type": "array", "items": {"$ref": "#/components/schemas/ProjectSummary"}})},
                    **_errors("400", "401")}}, "post": {
                "summary": "create a draft project (owned by the token's admin)",
                "requestBody": {"required": True, **_json({"$ref": "#/components/schemas/NewProject"})},
                "responses": {"201": {"description": "created", **_json({
                    "type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})},
                    **_errors("400", "401", "413")}}},
            "/api/projects/{project_id}": {"get": {
                "summary": "the project's queues, counts, queued workers and promotion-to-ready latency",
                "parameters": [_ID], "responses": {"200": {"description": "the snapshot and more", **_json(
                    {"$ref": "#/components/schemas/ProjectState"})}, **_errors("401", "404")}}},
            "/api/projects/{project_id}/launch": _command("start recruiting"),
            "/api/projects/{project_id}/stop": _command("end the job: every worker submits"),
            "/api/projects/{project_id}/expire": _command("close recruitment; workers present stay"),
            "/api/projects/{project_id}/migrate": _command("promote a waiting worker now",
                                                           {"$ref": "#/components/schemas/Migrate"}),
            "/api/projects/{project_id}/events.csv": {"get": {
                "summary": "the event log (DESIGN.md section 9)", "parameters": [_ID],
                "responses": {"200": {"description": "time_s, worker, event, queue, detail",
                                      "content": {"text/csv": {"schema": {"type": "string"}}}},
                              **_errors("401", "404")}}},
            "/api/projects/{project_id}/assignments.csv": _csv_export(
                "one row per stint (README: assignments.csv)",
                ", ".join(ASSIGNMENT_COLUMNS)),
            "/api/projects/{project_id}/ledger.csv": _csv_export(
                "one row per ledger line (README: ledger.csv)",
                ", ".join(LEDGER_COLUMNS)),
            "/api/task-tokens/verify": {"post": {
                "summary": "check a task token (a task address's pavilion_task_token) of one of the token's projects",
                "requestBody": {"required": True, **_json({
                    "type": "object", "required": ["token"], "additionalProperties": False,
                    "properties": {"token": {"type": "string", "minLength": 1, "maxLength": 1024}}})},
                "responses": {"200": {"description": "genuine and unexpired: who is in the task", **_json({
                    "type": "object", "required": ["valid", "project_id", "worker", "assignment"],
                    "properties": {"valid": {"const": True}, "project_id": {"type": "integer"},
                                   "worker": {"type": "string", "description": "the platform worker id"},
                                   "assignment": {"type": "string", "description": "the stint (event log worker)"}}})},
                    "403": {"description": "forged, expired, or not of this token's projects", **_json({
                        "type": "object", "required": ["valid", "error"],
                        "properties": {"valid": {"const": False}, "error": {"type": "string"}}})},
                    **_errors("400", "401", "413")}}},
            "/api/openapi.json": {"get": {
                "summary": "this description", "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", **_json({"type": "object"})}}}},
        },
    }
