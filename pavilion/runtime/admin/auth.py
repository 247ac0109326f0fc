"""Admin login and logout (Flask-Login): hashed passwords, one error message whatever was wrong, safe `next`."""

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
from pavilion.runtime.admin.runtime import database
from pavilion.runtime.admin.safe_next import safe_next
from pavilion.runtime.models import Admin

LOGIN_FAILED = "Invalid username or password."


@functools.cache
def _dummy_hash() -> str:
    # Checked when the username is unknown, so a miss costs as long as a wrong password.
    return generate_password_hash(secrets.token_hex(16))


def load_admin(user_id: str) -> Admin | None:
    """Flask-Login's user loader: the admin with this id, or None."""
    if not user_id.isdigit():
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
    if getattr(manager, "_user_callback", None) is None:  # create_app may have set an equivalent loader
        manager.user_loader(load_admin)
    if "csrf" not in app.extensions:  # create_app normally protects every form already
        CSRFProtect(app)
    manager.login_view = "admin.login"
    manager.login_message = "Please log in to see that page."
    manager.login_message_category = "info"
    bp.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", login_required(logout), methods=["POST"])


def login() -> ResponseReturnValue:
    default = url_for("admin.projects")
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), default))
    form = LoginForm()
    if form.validate_on_submit():
        admin = authenticate(form.username.data or "", form.password.data or "")
        if admin is not None:
            login_user(admin)
            session[LOGIN_KEY] = secrets.token_hex(16)
            return redirect(safe_next(request.args.get("next"), default))
        flash(LOGIN_FAILED, "error")
        return render_template("admin/login.html", form=form), 401
    return render_template("admin/login.html", form=form)


def logout() -> ResponseReturnValue:
    login_id = session.pop(LOGIN_KEY, None)
    logout_user()
    namespace: AdminNamespace | None = current_app.extensions.get("pavilion_admin_namespace")
    if login_id and namespace is not None:
        namespace.end_login(str(login_id))
    flash("Logged out.", "info")
    return redirect(url_for("admin.login"))
