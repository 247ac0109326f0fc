"""An external task server, as a researcher would run one (a robot, a chat), set as the project's task URL:
the promoted worker's address tells it who is in it, it checks the token online (POST /api/task-tokens/verify) and
offline (itsdangerous with the shared secret, as the README shows), and reports the worker done
(POST /task/<id>/done): the event log shows that worker `submitted` once and their socket is told `stop`."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import socketio
from flask import Flask, jsonify, request
from itsdangerous import URLSafeTimedSerializer
from werkzeug.serving import make_server

from pavilion.runtime import create_app
from pavilion.runtime.accounts import create_admin, create_token
from pavilion.runtime.context import get_runtime

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SECRET = "external-task-e2e-secret"  # PAVILION_SECRET_KEY, shared with the task server for the offline check
TOKEN_META = re.compile(r'<meta name="pavilion-token" content="([^"]+)">')
WAIT_S = 20


def serve(app: Flask) -> tuple[str, Any, threading.Thread]:
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{http.server_port}", http, thread


@dataclass
class TaskServer:
    """The researcher's own task server: it knows Pavilion's address, an API token and the shared secret."""

    pavilion: str
    api_token: str
    url: str = ""
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)  # assignment -> what the server learnt

    def app(self) -> Flask:
        app = Flask("external-task")

        @app.get("/drive")
        def drive() -> Any:
            token = request.args.get("pavilion_task_token", "")
            online = httpx.post(f"{self.pavilion}/api/task-tokens/verify", json={"token": token},
                                headers={"Authorization": f"Bearer {self.api_token}"}, timeout=WAIT_S)
            offline = URLSafeTimedSerializer(SECRET, salt="pavilion.task-token.v1").loads(token, max_age=21600)
            self.seen[offline["assignment"]] = {"args": request.args.to_dict(), "online": online.status_code,
                                                "verified": online.json(), "offline": offline, "token": token}
            return f"<h1>Drive the robot, {offline['worker']}</h1>"

        @app.post("/finish/<assignment>")
        def finish(assignment: str) -> Any:
            mine = self.seen[assignment]
            done = httpx.post(f"{self.pavilion}/task/{mine['offline']['project_id']}/done",
                              json={"token": mine["token"]}, timeout=WAIT_S)
            return jsonify(status=done.status_code, answer=done.json())

        return app


class Worker:
    """One person's page: opens the join link over HTTP and holds the /worker socket (python-socketio)."""

    def __init__(self, pavilion: str, project_id: int) -> None:
        page = httpx.get(f"{pavilion}/join/{project_id}", follow_redirects=True, timeout=WAIT_S)
        assert page.status_code == 200, page.text
        match = TOKEN_META.search(page.text)
        assert match
        self.token = match.group(1)
        self.got: dict[str, list[Any]] = {}
        self.arrived = threading.Condition()
        self.client = socketio.Client(reconnection=False, request_timeout=WAIT_S)
        for event in ("queue", "promoted", "stop", "left", "rejected", "error"):
            self.client.on(event, self._keeper(event), namespace="/worker")
        self.client.connect(pavilion, namespaces=["/worker"], auth={"token": self.token}, transports=["polling"],
                            wait_timeout=WAIT_S)

    def _keeper(self, event: str) -> Any:
        def keep(data: Any = None) -> None:
            with self.arrived:
                self.got.setdefault(event, []).append(data)
                self.arrived.notify_all()

        return keep

    def wait(self, event: str, count: int = 1) -> list[Any]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.got.get(event, [])) >= count, WAIT_S), (event, self.got)
            return list(self.got[event])


@pytest.fixture
def pavilion(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    app = create_app({"ENV": "testing", "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": SECRET,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'pavilion.sqlite'}", "ASYNC_MODE": "threading",
                      "BACKGROUND_TASKS": False})
    url, http, thread = serve(app)
    yield app, url
    http.shutdown()
    thread.join(timeout=10)
    get_runtime(app).shutdown()


@pytest.fixture
def task_server(pavilion: tuple[Flask, str]) -> Iterator[TaskServer]:
    app, url = pavilion
    runtime = get_runtime(app)
    create_admin(runtime.db, "alice", "correct horse", runtime.clock)
    server = TaskServer(url, create_token(runtime.db, "alice", runtime.clock))
    server.url, http, thread = serve(server.app())
    yield server
    http.shutdown()
    thread.join(timeout=10)


def test_an_external_task_learns_who_is_in_it_and_ends_the_stint(task_server: TaskServer) -> None:
    api = httpx.Client(base_url=f"{task_server.pavilion}/api", timeout=WAIT_S,
                       headers={"Authorization": f"Bearer {task_server.api_token}"})
    project = {"name": "robot", "platform": {"name": "local"},
               "policy": {"name": "pavilion", "min_active": 1, "max_active": 1, "min_waiting": 1, "max_waiting": 1},
               "pay": {"reward": "0.50", "waiting_wage_per_hour": "7.20", "active_wage_per_hour": "12.00"},
               "task": {"title": "Drive", "url": f"{task_server.url}/drive?room=7#go"}}
    project_id = api.post("/projects", json=project).json()["id"]
    assert api.post(f"/projects/{project_id}/launch").status_code == 200
    first, second = Worker(task_server.pavilion, project_id), Worker(task_server.pavilion, project_id)
    try:
        (promoted,) = first.wait("promoted")
        url = urlsplit(promoted["url"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert (url.path, url.fragment, query["room"]) == ("/drive", "go", "7")
        assert sorted(query) == ["pavilion_assignment", "pavilion_task_token", "pavilion_worker", "room"]
        assignment = query["pavilion_assignment"]
        assert api.get(f"/projects/{project_id}").json()["active"] == [assignment]

        # The worker's page frames the address: the task server checks who it is, online and offline.
        framed = httpx.get(promoted["url"], timeout=WAIT_S)
        assert framed.status_code == 200 and query["pavilion_worker"] in framed.text
        seen = task_server.seen[assignment]
        who = {"project_id": project_id, "worker": query["pavilion_worker"], "assignment": assignment}
        assert seen["online"] == 200 and seen["verified"] == {"valid": True, **who}
        assert seen["offline"] == who

        # The task is over: the task server reports it, and the page hears `stop` (it then posts the submit form).
        finished = httpx.post(f"{task_server.url}/finish/{assignment}", timeout=WAIT_S).json()
        assert finished["status"] == 200 and finished["answer"]["already"] is False
        assert first.wait("stop") == [{"submitted": True}]
        again = httpx.post(f"{task_server.url}/finish/{assignment}", timeout=WAIT_S).json()
        assert again["status"] == 200 and again["answer"]["already"] is True  # a retry is no second departure

        events = api.get(f"/projects/{project_id}/events.csv").text.splitlines()
        rows = [line.split(",") for line in events[1:]]
        assert [(r[2], r[3], r[4]) for r in rows if r[1] == assignment and r[2] == "submitted"] == [
            ("submitted", "active", "task")]
        assert api.get(f"/projects/{project_id}").json()["active"] == []
        assert "stop" not in second.got and "promoted" not in second.got  # only that worker's page was told
    finally:
        first.client.disconnect()
        second.client.disconnect()
