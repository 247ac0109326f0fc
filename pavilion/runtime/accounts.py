"""Admin accounts and API tokens: passwords hashed with werkzeug, tokens kept only as their sha256."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from pavilion.errors import InputError
from pavilion.runtime.config import Clock
from pavilion.runtime.db import Database
from pavilion.runtime.models import Admin, AdminLogin, ApiToken

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,80}$")
MIN_PASSWORD = 8
PREFIX_LENGTH = 6  # characters of a token kept in clear to tell tokens apart (of ~43; the rest stays secret)


@dataclass(frozen=True)
class TokenInfo:
    """What `pavilion admin list-tokens` shows of a token: never the token itself."""

    id: int
    username: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    """The stored form of an API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_admin(db: Database, username: str, password: str, clock: Clock) -> int:
    """A new admin; InputError names a bad username, a short password or a taken name."""
    if not USERNAME.match(username):
        raise InputError(f"username {username!r} may hold only letters, digits and _ . @ - (up to 80)")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password must have at least {MIN_PASSWORD} characters")
    with db.session_scope(lock=True) as session:
        if session.scalar(select(Admin.id).where(Admin.username == username)) is not None:
            raise InputError(f"user {username!r} already exists")
        admin = Admin(username=username, password_hash=generate_password_hash(password), created_at=clock())
        session.add(admin)
        session.flush()
        return admin.id


@dataclass(frozen=True)
class UserInfo:
    """What `pavilion admin list-users` shows of an admin: never the password hash."""

    id: int
    username: str
    created_at: datetime
    active_tokens: int


def list_admins(db: Database) -> list[UserInfo]:
    """Every admin, oldest first, with the number of unrevoked API tokens."""
    tokens = (select(ApiToken.admin_id, func.count().label("n")).where(ApiToken.revoked_at.is_(None))
              .group_by(ApiToken.admin_id).subquery())
    query = (select(Admin.id, Admin.username, Admin.created_at, func.coalesce(tokens.c.n, 0))
             .outerjoin(tokens, tokens.c.admin_id == Admin.id).order_by(Admin.id))
    with db.session_scope() as session:
        return [UserInfo(i, name, created, int(n)) for i, name, created, n in session.execute(query).all()]


def set_password(db: Database, username: str, password: str, clock: Clock) -> int:
    """Replace an admin's password and sign out its browser logins (API tokens stay); the logins revoked."""
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password must have at least {MIN_PASSWORD} characters")
    with db.session_scope(lock=True) as session:
        admin = session.scalars(select(Admin).where(Admin.username == username)).one_or_none()
        if admin is None:
            raise InputError(f"no user {username!r}; see `pavilion admin list-users`")
        admin.password_hash = generate_password_hash(password)
        logins = list(session.scalars(
            select(AdminLogin).where(AdminLogin.admin_id == admin.id, AdminLogin.revoked_at.is_(None))))
        for login in logins:
            login.revoked_at = clock()
        return len(logins)


def check_login(db: Database, username: str, password: str) -> Admin | None:
    """The admin when the password matches, else None (same answer for an unknown user)."""
    with db.session_scope() as session:
        admin = session.scalars(select(Admin).where(Admin.username == username)).one_or_none()
        if admin is None or not check_password_hash(admin.password_hash, password):
            return None
        return admin


def create_token(db: Database, username: str, clock: Clock) -> str:
    """A new API token for `username`; shown once, stored hashed."""
    with db.session_scope(lock=True) as session:
        admin_id = session.scalar(select(Admin.id).where(Admin.username == username))
        if admin_id is None:
            raise InputError(f"no user {username!r}; create it with `pavilion admin create-user {username}`")
        token = secrets.token_urlsafe(32)
        session.add(ApiToken(admin_id=admin_id, token_hash=hash_token(token), prefix=token[:PREFIX_LENGTH],
                             created_at=clock()))
        return token


def list_tokens(db: Database, username: str | None = None) -> list[TokenInfo]:
    """Every API token (of one admin when `username` is given), oldest first."""
    query = select(ApiToken, Admin.username).join(Admin).order_by(ApiToken.id)
    if username is not None:
        query = query.where(Admin.username == username)
    with db.session_scope() as session:
        return [TokenInfo(t.id, name, t.prefix, t.created_at, t.last_used_at, t.revoked_at)
                for t, name in session.execute(query).all()]


def revoke_tokens(db: Database, clock: Clock, token: str = "", username: str = "") -> list[int]:
    """Revoke one token (by id or by its first characters) or every token of `username`; the ids revoked.
    InputError when nothing matches or a prefix is ambiguous."""
    if bool(token) == bool(username):
        raise InputError("give a token id or prefix, or --user NAME (one of the two)")
    with db.session_scope(lock=True) as session:
        query = select(ApiToken).where(ApiToken.revoked_at.is_(None))
        if username:
            if session.scalar(select(Admin.id).where(Admin.username == username)) is None:
                raise InputError(f"no user {username!r}")
            query = query.join(Admin).where(Admin.username == username)
        elif token.isdigit():
            query = query.where(ApiToken.id == int(token))
        elif len(token) > PREFIX_LENGTH:  # the whole token
            query = query.where(ApiToken.token_hash == hash_token(token))
        elif len(token) >= 4:
            query = query.where(ApiToken.prefix != "", ApiToken.prefix.startswith(token, autoescape=True))
        else:
            raise InputError(f"token {token!r}: give its id or at least 4 of its first characters")
        rows = list(session.scalars(query))
        if not username and len(rows) != 1:
            found = "no active token" if not rows else f"{len(rows)} active tokens"
            raise InputError(f"{found} match {token!r}; see `pavilion admin list-tokens`")
        for row in rows:
            row.revoked_at = clock()
        return [row.id for row in rows]


def admin_for_token(db: Database, token: str, clock: Clock) -> int | None:
    """The admin id behind a bearer token, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    with db.session_scope(lock=True) as session:
        row = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        ).one_or_none()
        if row is None:
            return None
        row.last_used_at = clock()
        return row.admin_id
