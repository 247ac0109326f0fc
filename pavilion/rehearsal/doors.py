"""How a simulated worker reaches the task on each platform (the task link as a browser loads it) and returns it."""

from __future__ import annotations

import html
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from pavilion.rehearsal.client import SimWorker

TOKEN_META = re.compile(r'<meta name="pavilion-token" content="([^"]+)"')
PAGE_STATE = re.compile(r'data-state="(\w+)"')
PAGE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class LoadedPage:
    kind: str  # joined | rejected | lost | unanswered | error
    token: str = ""
    detail: str = ""


def read_page(response: httpx.Response) -> LoadedPage:
    """The live page's token, a refusal with a reason, or 'lost': the platform had no open place (403)."""
    html = response.text
    if response.status_code == 200:
        token = TOKEN_META.search(html)
        if token:
            return LoadedPage("joined", token.group(1))
        state = PAGE_STATE.search(html)
        if state and state.group(1) == "rejected":
            return LoadedPage("rejected")
    joined = any("/live" in r.headers.get("location", "") for r in response.history)
    if response.status_code == 403 and not joined:
        return LoadedPage("lost", detail="no open place")
    title = re.search(r"<p[^>]*>(.*?)</p>", html, re.S)
    return LoadedPage("error", detail=f"{response.request.url.path} answered {response.status_code}: "
                                      f"{(title.group(1).strip() if title else '')[:120]}")


class Browsers:
    """Fresh browsers (own cookies, own connections) sharing one SSL context: building a context is what makes a
    new httpx.Client cost 0.1-0.2 s of CPU, which at a time scale of 60 would be seconds of the worker's day."""

    def __init__(self) -> None:
        self.ssl = ssl.create_default_context()

    def new(self) -> httpx.Client:
        transport = httpx.HTTPTransport(verify=self.ssl)
        return httpx.Client(transport=transport, follow_redirects=True, timeout=PAGE_TIMEOUT_S)

    def load(self, url: str, params: dict[str, str] | None = None) -> LoadedPage:
        """GET the task link as a browser does, following redirects (each worker is a fresh browser)."""
        return load(self.new, url, params)


def load(new: Callable[[], httpx.Client], url: str, params: dict[str, str] | None = None) -> LoadedPage:
    """GET `url` in a new browser, following redirects, and read the page it ends on."""
    try:
        with new() as browser:
            return read_page(browser.get(url, params=params))
    except httpx.ConnectError as exc:
        # The server is away (a chaos restart): to the worker the task cannot be taken now, as with no slot.
        return LoadedPage("lost", detail=f"server away ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        # Sent, but no answer came (the server died mid-request): it may or may not have joined the worker.
        return LoadedPage("unanswered", detail=f"{type(exc).__name__}: {exc}"[:160])


class LocalDoor:
    """The local platform: `GET /join/<project>` redirects to the task page with a new lab identity."""

    def __init__(self, server_url: str, project_id: int) -> None:
        self.url = f"{server_url}/join/{project_id}"
        self.browsers = Browsers()

    def open(self, index: int) -> LoadedPage:
        return self.browsers.load(self.url)

    def give_back(self, index: int, worker: SimWorker) -> bool:
        return False  # the lab has no platform to return to: the page's own `leave returned`

    def submitted(self, index: int) -> None:
        """The local page's end: a thank-you page, nothing the platform records."""


FORM = re.compile(r'<form id="submit-form"[^>]*action="([^"]*)"[^>]*method="([^"]*)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def submit_form(page_html: str) -> tuple[str, str, dict[str, str]]:
    """The live page's platform form (action, method, hidden fields), which the page posts after submitting."""
    found = FORM.search(page_html)
    if not found:
        return "", "", {}
    action, method, inputs = found.groups()
    return html.unescape(action), method.upper(), {k: html.unescape(v) for k, v in HIDDEN.findall(inputs)}


class MTurkDoor:
    """MTurk (its emulator): accept an assignable HIT, open the framed ExternalURL, post externalSubmit at the end,
    return through MTurk's own Return button (the emulator's /_emu/return)."""

    def __init__(self, emulator_url: str, project_id: int) -> None:
        self.emulator = emulator_url
        self.project_id = project_id
        self.browsers = Browsers()
        self.assignments: dict[int, str] = {}
        self.forms: dict[int, tuple[str, str, dict[str, str]]] = {}

    def open(self, index: int) -> LoadedPage:
        with self.browsers.new() as browser:
            try:
                hits = [h for h in browser.get(f"{self.emulator}/_emu/hits").json()
                        if h.get("NumberOfAssignmentsAvailable", 0) > 0]
                if not hits:
                    return LoadedPage("lost", detail="no assignable HIT")
                worker = f"AREH{self.project_id:04d}X{index:06d}"
                got = browser.post(f"{self.emulator}/_emu/accept", json={"hit_id": hits[0]["HITId"],
                                                                          "worker_id": worker}).json()
                if "assignment_id" not in got:
                    return LoadedPage("lost", detail=str(got.get("error", "accept refused")))
                self.assignments[index] = got["assignment_id"]
                response = browser.get(got["url"])
            except (httpx.HTTPError, ValueError) as exc:
                return LoadedPage("lost", detail=f"{type(exc).__name__}: {exc}"[:160])
        page = read_page(response)
        if page.kind == "joined":
            self.forms[index] = submit_form(response.text)
        return page

    def give_back(self, index: int, worker: SimWorker) -> bool:
        assignment = self.assignments.get(index)
        if assignment is None:
            return False
        with self.browsers.new() as browser:
            browser.post(f"{self.emulator}/_emu/return", json={"assignment_id": assignment})
        return True

    def submitted(self, index: int) -> None:
        """The page posts MTurk's externalSubmit form once the server has the submission."""
        action, method, fields = self.forms.get(index, ("", "", {}))
        if action:
            with self.browsers.new() as browser:
                browser.request(method or "POST", action, data=fields if method != "GET" else None,
                                params=fields if method == "GET" else None)


class ProlificDoor:
    """Prolific (its emulator): a participant reserves a place and starts, opens the study URL with its
    PROLIFIC_PID, STUDY_ID and SESSION_ID, and returns through Prolific (the emulator's participant return)."""

    def __init__(self, emulator_url: str, api_token: str, project_id: int) -> None:
        self.emulator = emulator_url
        self.api_token = api_token
        self.project_id = project_id
        self.browsers = Browsers()
        self.study: dict[str, str] | None = None
        self.sessions: dict[int, str] = {}

    def _study(self, browser: httpx.Client) -> dict[str, str] | None:
        """Our project's study (its URL names /task/<project>), looked up with the researcher API."""
        if self.study is None:
            listed = browser.get(f"{self.emulator}/api/v1/studies/",
                                 headers={"Authorization": f"Token {self.api_token}"}).json()["results"]
            mine = [s for s in listed if f"/task/{self.project_id}?" in s.get("external_study_url", "")]
            if mine:
                self.study = {"id": mine[-1]["id"], "url": mine[-1]["external_study_url"]}
        return self.study

    def open(self, index: int) -> LoadedPage:
        control = f"{self.emulator}/_emulator"
        with self.browsers.new() as browser:
            try:
                study = self._study(browser)
                if study is None:
                    return LoadedPage("lost", detail="the study is not published yet")
                participant = f"{self.project_id:08x}{index:016x}"  # a Prolific id: 24 hex digits
                reserved = browser.post(f"{control}/studies/{study['id']}/reserve",
                                        json={"participant_id": participant})
                if reserved.status_code != 201:
                    return LoadedPage("lost", detail="no place available")
                session = reserved.json()["id"]
                self.sessions[index] = session
                browser.post(f"{control}/submissions/{session}/start")
                url = (study["url"].replace("{{%PROLIFIC_PID%}}", participant)
                       .replace("{{%STUDY_ID%}}", study["id"]).replace("{{%SESSION_ID%}}", session))
                return read_page(browser.get(url))
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                return LoadedPage("lost", detail=type(exc).__name__)

    def give_back(self, index: int, worker: SimWorker) -> bool:
        session = self.sessions.get(index)
        if session is None:
            return False
        with self.browsers.new() as browser:
            browser.post(f"{self.emulator}/_emulator/submissions/{session}/return")
        return True

    def submitted(self, index: int) -> None:
        """The server completes the submission itself with the researcher's code; the page's completion link
        leads to Prolific's own site, which the emulator does not serve."""
