"""Admin login and logout (Flask-Login): hashed passwords, one error message whatever was wrong, safe `next`,
failed logins throttled, and a login revoked server-side at logout."""

from __future__ import annotations

import functools
import secrets

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import CSRFProtect
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from pavilion.runtime.admin.dashboard import LOGIN_KEY, AdminNamespace
from pavilion.runtime.admin.forms import LoginForm
from pavilion.runtime.admin.logins import close_login, login_is_open, open_login
from pavilion.runtime.admin.runtime import database
from pavilion.runtime.admin.safe_next import safe_next
from pavilion.runtime.admin.throttle import throttle_login
from pavilion.runtime.context import get_runtime
from pavilion.runtime.models import Admin

LOGIN_FAILED = "Invalid username or password."
THROTTLED = "Too many failed logins; wait a minute before trying again."


@functools.cache
def _dummy_hash() -> str:
    # Checked when the username is unknown, so a miss costs as long as a wrong password.
    return generate_password_hash(secrets.token_hex(16))


def load_admin(user_id: str) -> Admin | None:
    """Flask-Login's user loader: the admin with this id while the cookie's login is open (not logged out)."""
    if not user_id.isdigit() or not login_is_open(database(), int(user_id), session.get(LOGIN_KEY)):
        return None
    with database().session_scope() as db_session:
        return db_session.get(Admin, int(user_id))


def authenticate(username: str, password: str) -> Admin | None:
    """The admin when the username and password match, else None (same work done either way)."""
    with database().session_scope() as db_session:
        admin = db_session.scalars(select(Admin).where(Admin.username == username)).first()
    if admin is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return admin if check_password_hash(admin.password_hash, password) else None


def register_login(app: Flask, bp: Blueprint) -> None:
    """Wire the user loader into the app's LoginManager (made here if create_app did not) and add the views."""
    manager: LoginManager | None = getattr(app, "login_manager", None)
    if manager is None:
        manager = LoginManager(app)
    manager.user_loader(load_admin)  # replaces create_app's plain loader: this one also checks the login row
    if "csrf" not in app.extensions:  # create_app normally protects every form already
        CSRFProtect(app)
    manager.login_view = "admin.login"
    manager.login_message = "Please log in to see that page."
    manager.login_message_category = "info"
    bp.add_url_rule("/login", "login", throttle_login(app, login), methods=["GET", "POST"])
    bp.register_error_handler(429, throttled)
    bp.add_url_rule("/logout", "logout", login_required(logout), methods=["POST"])


def login() -> ResponseReturnValue:
    default = url_for("admin.projects")
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), default))
    form = LoginForm()
    if form.validate_on_submit():
        admin = authenticate(form.username.data or "", form.password.data or "")
        if admin is not None:
            session[LOGIN_KEY] = open_login(database(), admin.id, get_runtime().clock())
            login_user(admin)
            return redirect(safe_next(request.args.get("next"), default))
        flash(LOGIN_FAILED, "error")
        return render_template("admin/login.html", form=form), 401
    return render_template("admin/login.html", form=form), 400 if request.method == "POST" else 200


def throttled(error: Exception) -> ResponseReturnValue:
    if request.endpoint != "admin.login":
        return error  # type: ignore[return-value]  # not ours: Flask renders it as usual
    flash(THROTTLED, "error")
    return render_template("admin/login.html", form=LoginForm()), 429


def logout() -> ResponseReturnValue:
    login_id = session.pop(LOGIN_KEY, None)
    close_login(database(), login_id, get_runtime().clock())
    logout_user()
    namespace: AdminNamespace | None = current_app.extensions.get("pavilion_admin_namespace")
    if login_id and namespace is not None:
        namespace.end_login(str(login_id))
    flash("Logged out.", "info")
    return redirect(url_for("admin.login"))
