"""create_app: development defaults just work; production refuses to start without a secret key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavilion.errors import InputError
from pavilion.runtime import create_app
from pavilion.runtime.context import get_runtime


def test_development_defaults_use_the_instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAVILION_SECRET_KEY", raising=False)
    monkeypatch.delenv("PAVILION_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    runtime = get_runtime(app)
    assert (tmp_path / "instance" / "pavilion.sqlite").is_file()
    key = (tmp_path / "instance" / "secret_key").read_text().strip()
    assert app.config["SECRET_KEY"] == key and len(key) == 64
    assert oct((tmp_path / "instance" / "secret_key").stat().st_mode & 0o777) == "0o600"
    again = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert again.config["SECRET_KEY"] == key  # kept, not regenerated
    assert runtime.service.snapshot is not None and not runtime._started  # threading mode: no background loop
    runtime.shutdown()


def test_platform_classes_hook_into_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pavilion.runtime import platforms

    hooked: list[object] = []

    class Hooked:
        @classmethod
        def init_app(cls, app: object, socketio: object) -> None:
            hooked.append((app, socketio))

    real = platforms.platform_class
    monkeypatch.setitem(platforms.PLATFORMS, "hooked", "tests:Hooked")
    monkeypatch.setattr(platforms, "platform_class", lambda name: Hooked if name == "hooked" else real(name))
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k", "ENV": "testing"})
    assert hooked == [(app, get_runtime(app).socketio)]
    get_runtime(app).shutdown()


def test_production_needs_an_explicit_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAVILION_SECRET_KEY", raising=False)
    monkeypatch.setenv("PAVILION_ENV", "production")
    with pytest.raises(InputError, match="PAVILION_SECRET_KEY must be set"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}"})
    assert not (tmp_path / "secret_key").exists()


def test_production_cookies_are_secure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAVILION_ENV", "production")
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s" * 32, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    get_runtime(app).shutdown()


def test_environment_variables_are_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAVILION_ABANDON_GRACE_S", "20")
    monkeypatch.setenv("PAVILION_MTURK_SANDBOX", "1")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 32})
    assert app.config["ABANDON_GRACE_S"] == 20.0 and app.config["MTURK_SANDBOX"] == "1"
    monkeypatch.setenv("PAVILION_ABANDON_GRACE_S", "soon")
    with pytest.raises(InputError, match="PAVILION_ABANDON_GRACE_S must be float"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    get_runtime(app).shutdown()
