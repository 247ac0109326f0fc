"""Where to go after logging in: only a local path of this site, never another host."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a plain local path ("/admin/projects?x=1"), else `default`.

    Refuses absolute URLs, scheme-relative ("//evil"), backslash tricks ("/\\evil", which browsers read as "//"),
    control characters and anything that does not start with a single "/".
    """
    if not target or len(target) > 2000:
        return default
    if any(ord(ch) < 0x20 or ch == "\\" for ch in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
