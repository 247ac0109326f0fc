"""Which database to open: PAVILION_DATABASE_URL, else the platform convention DATABASE_URL; psycopg for PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pavilion.errors import InputError

# Heroku-style platforms hand out postgres:// (which SQLAlchemy no longer accepts) and postgresql:// (which would
# pick psycopg2, not installed): both mean the psycopg 3 driver here.
_POSTGRES_SCHEMES = ("postgres", "postgresql")


def from_environ(environ: Mapping[str, str]) -> tuple[str, str]:
    """(url, the variable it came from); ("", "") when neither variable is set."""
    for name in ("PAVILION_DATABASE_URL", "DATABASE_URL"):
        url = environ.get(name, "").strip()
        if url:
            return url, name
    return "", ""


def normalise(url: str) -> str:
    """postgres://... and postgresql://... -> postgresql+psycopg://...; anything else unchanged."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in _POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    return url


def redacted(url: str) -> str:
    """The URL without its password, fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def check_sqlite_folder(url: str, variable: str) -> None:
    """Production never creates folders: a SQLite file in a missing folder is refused, naming the variable."""
    if not url.startswith("sqlite:///") or url in ("sqlite://", "sqlite:///:memory:"):
        return
    path = Path(url[len("sqlite:///") :].split("?", 1)[0])
    if not path.parent.is_dir():
        raise InputError(
            f"{variable}: the SQLite folder {path.parent} does not exist; create it or set PAVILION_DATABASE_URL "
            "(or DATABASE_URL) to a PostgreSQL URL"
        )
