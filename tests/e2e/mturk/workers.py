"""Simulated MTurk workers: accept on the emulator, open the framed task link, talk /worker, post externalSubmit."""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

TOKEN = re.compile(r'<meta name="pavilion-token" content="([^"]+)">')
FORM = re.compile(r'<form id="submit-form"[^>]*action="([^"]*)"[^>]*method="([^"]*)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class SimWorker:
    """One person on MTurk, with a browser tab on our live page (a Socket.IO client)."""

    name: str
    emulator: str
    server: str
    assignment_id: str = ""
    token: str = ""
    form: tuple[str, dict[str, str]] = ("", {})
    events: list[tuple[str, Any]] = field(default_factory=list)
    client: Any = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def accept(self, hit_ids: list[str]) -> None:
        open_hits = [h["HITId"] for h in httpx.get(f"{self.emulator}/_emu/hits").json() if h["HITId"] in hit_ids]
        assert open_hits, "no open HIT of the project"
        got = httpx.post(f"{self.emulator}/_emu/accept", json={"hit_id": open_hits[0], "worker_id": self.name}).json()
        self.assignment_id = got["assignment_id"]
        page = httpx.get(got["url"], follow_redirects=True, timeout=20)  # the frame MTurk shows
        assert page.status_code == 200, page.text
        found = TOKEN.search(page.text)
        assert found, f"no worker token on the page: {page.text[:500]}"
        self.token = html.unescape(found.group(1))
        action, _, inputs = FORM.search(page.text).groups()  # type: ignore[union-attr]
        self.form = (html.unescape(action), {k: html.unescape(v) for k, v in HIDDEN.findall(inputs)})
        self.connect()

    def connect(self) -> None:
        import socketio

        self.client = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        for event in ("queue", "promoted", "stop", "rejected", "error"):
            self.client.on(event, self._recorder(event), namespace="/worker")
        self.client.connect(self.server, namespaces=["/worker"], auth={"token": self.token}, wait_timeout=20)

    def _recorder(self, event: str) -> Any:
        def record(payload: Any = None) -> None:
            with self._changed:
                self.events.append((event, payload))
                self._changed.notify_all()
            if event == "promoted":  # answered from another thread: this one is still inside the connect
                threading.Thread(target=self._ready, daemon=True).start()
        return record

    def _ready(self) -> None:
        import socketio

        for _ in range(50):
            try:
                self.client.emit("ready", namespace="/worker")
                return
            except socketio.exceptions.BadNamespaceError:
                threading.Event().wait(0.1)

    def wait_for(self, event: str, timeout: float = 20) -> Any:
        with self._changed:
            ok = self._changed.wait_for(lambda: any(e == event for e, _ in self.events), timeout)
        assert ok, f"{self.name} never got {event!r}: {self.events[-5:]}"
        return next(p for e, p in self.events if e == event)

    def last_queue(self) -> dict[str, Any]:
        return next(p for e, p in reversed(self.events) if e == "queue")

    def submit(self) -> None:
        """What the page does: tell the server, then post MTurk's form from the browser."""
        reply = self.client.call("leave", {"how": "submitted"}, namespace="/worker", timeout=20)
        assert reply and reply.get("ok"), reply
        self.post_form()

    def post_form(self) -> None:
        action, fields = self.form
        assert httpx.post(action, data=fields, timeout=20).status_code == 200

    def return_hit(self) -> None:
        reply = self.client.call("leave", {"how": "returned"}, namespace="/worker", timeout=20)
        assert reply and reply.get("ok"), reply
        self.close()
        httpx.post(f"{self.emulator}/_emu/return", json={"assignment_id": self.assignment_id})

    def abandon(self) -> None:
        """The tab closes and MTurk's timer runs out; nobody says goodbye."""
        self.close()
        httpx.post(f"{self.emulator}/_emu/abandon", json={"assignment_id": self.assignment_id})

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
