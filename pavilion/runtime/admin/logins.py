"""Server-side admin logins: a session cookie is honoured only while its login row exists and is not revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update

from pavilion.runtime.db import Database
from pavilion.runtime.models import AdminLogin


def _hash(login_id: str) -> str:
    return hashlib.sha256(login_id.encode("utf-8", "replace")).hexdigest()


def open_login(db: Database, admin_id: int, now: datetime) -> str:
    """Record a new login of `admin_id`; the returned id goes into the session cookie (only its hash is kept)."""
    login_id = secrets.token_urlsafe(24)
    with db.session_scope() as session:
        session.add(AdminLogin(admin_id=admin_id, login_hash=_hash(login_id), created_at=now))
    return login_id


def login_is_open(db: Database, admin_id: int, login_id: object) -> bool:
    """Whether the cookie's login id names an unrevoked login of this admin (a pre-logout cookie does not)."""
    if not isinstance(login_id, str) or not login_id or len(login_id) > 100:
        return False
    with db.session_scope() as session:
        row = session.scalar(select(AdminLogin.id).where(
            AdminLogin.login_hash == _hash(login_id), AdminLogin.admin_id == admin_id,
            AdminLogin.revoked_at.is_(None)))
    return row is not None


def close_login(db: Database, login_id: object, now: datetime) -> None:
    """Revoke a login at logout: copies of its cookie stop working, on pages and on the /admin socket."""
    if not isinstance(login_id, str) or not login_id:
        return
    with db.session_scope() as session:
        session.execute(update(AdminLogin).where(AdminLogin.login_hash == _hash(login_id),
                                                 AdminLogin.revoked_at.is_(None)).values(revoked_at=now))
