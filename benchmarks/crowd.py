"""Thousands of worker pages held open from one benchmark process: asyncio Socket.IO clients on one event loop.

The threaded python-socketio client costs two threads per connection: 3,000 of them put the 2-core machine's load
average past 80 and measured the benchmark's own scheduler rather than the server. Here every worker is an
`AsyncClient` sharing one aiohttp session on an event loop of its own thread, so the caller (the admin probe) keeps
using plain blocking HTTP while the pages answer the server's pings.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
TOKEN_META = re.compile(r'<meta name="pavilion-token" content="([^"]+)"')


@dataclass
class Crowd:
    """Pages joined through the local join link and connected to `/worker`; what happened to them."""

    url: str
    join_path: Callable[[int], str]  # the join link of page `index` (round the projects)
    headers: Callable[[int], dict[str, str]]  # per-page request headers (X-Forwarded-For behind nginx)
    clients: list[Any] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dropped: int = 0
    why: Counter[str] = field(default_factory=Counter)  # why sockets closed, and what the server said first
    messages: int = 0
    page_to_socket_s: list[float] = field(default_factory=list)  # join page received -> socket accepted
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None
    _session: Any = None

    def __enter__(self) -> Crowd:
        self._thread = threading.Thread(target=self._loop.run_forever, name="crowd-loop", daemon=True)
        self._thread.start()
        self._run(self._open())
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self._run(self._close(), timeout_s=120)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout_s)

    async def _open(self) -> None:
        import aiohttp

        # One connection pool for the join pages; each websocket is its own connection anyway.
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def _close(self) -> None:
        await asyncio.gather(*(c.disconnect() for c in self.clients if c.connected), return_exceptions=True)
        await self._session.close()

    def join(self, count: int, at_once: int, timeout_s: float) -> float:
        """Join `count` more pages, `at_once` in flight, for at most timeout_s; seconds it took."""
        start = time.monotonic()
        self._run(self._join_many(count, at_once, start + timeout_s))
        return time.monotonic() - start

    async def _join_many(self, count: int, at_once: int, deadline: float) -> None:
        gate = asyncio.Semaphore(at_once)
        first = len(self.clients) + len(self.failed)

        async def one(index: int) -> None:
            async with gate:
                if time.monotonic() > deadline:
                    return
                try:
                    self.clients.append(await self._page(index))
                except Exception as error:  # noqa: BLE001 - counted and reported; the run goes on
                    self.failed.append(f"{type(error).__name__}: {error}")

        await asyncio.gather(*(one(i) for i in range(first, first + count)))

    async def _page(self, index: int) -> Any:
        import socketio

        headers = self.headers(index)
        async with self._session.get(self.url + self.join_path(index), headers=headers) as page:
            body = await page.text()
        paged = time.monotonic()
        match = TOKEN_META.search(body)
        if page.status != 200 or match is None:
            raise RuntimeError(f"join failed: {page.status} {body[:120]!r}")
        client = socketio.AsyncClient(reconnection=False, request_timeout=60)
        client.on("disconnect", self._drop, namespace="/worker")
        client.on("queue", self._count, namespace="/worker")
        for told in ("stop", "rejected", "left", "error"):
            client.on(told, self._told(told), namespace="/worker")
        await client.connect(self.url, namespaces=["/worker"], auth={"token": match.group(1)},
                             transports=["websocket"], headers=headers, wait_timeout=30)
        # The server's grace counts from the page: a socket accepted later than that may find its stint abandoned.
        self.page_to_socket_s.append(time.monotonic() - paged)
        return client

    async def _drop(self, reason: Any = "", *_: Any) -> None:
        self.dropped += 1
        self.why[f"disconnect {reason}"] += 1

    def _told(self, event: str) -> Callable[..., Coroutine[Any, Any, None]]:
        async def record(payload: Any = None, *_: Any) -> None:
            detail = payload.get("reason") or payload.get("how") or "" if isinstance(payload, dict) else ""
            self.why[f"{event} {detail}".strip()] += 1

        return record

    async def _count(self, *_: Any) -> None:
        self.messages += 1

    def settle(self, idle_s: float, max_s: float) -> None:
        """Wait until no `queue` message has arrived for idle_s (the server has sent the last fan-out)."""
        deadline = time.monotonic() + max_s
        seen = -1
        while seen != self.messages and time.monotonic() < deadline:
            seen = self.messages
            time.sleep(idle_s)

    def connected(self) -> int:
        return sum(1 for c in self.clients if c.connected)
