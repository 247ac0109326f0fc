"""Configuration precedence: defaults < instance/pavilion.cfg < PAVILION_* environment < the given mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavilion.errors import InputError
from pavilion.runtime.config import load_config


def test_precedence(tmp_path: Path) -> None:
    (tmp_path / "pavilion.cfg").write_text('PLATFORM = "mturk"\nABANDON_GRACE_S = 30.0\nRECONCILE_S = 5.0\n')
    env = {"PAVILION_INSTANCE_PATH": str(tmp_path), "PAVILION_ABANDON_GRACE_S": "20", "PAVILION_SECRET_KEY": "s"}
    config = load_config({"RECONCILE_S": 1.0}, environ=env)
    assert config["PLATFORM"] == "mturk"  # instance file over the default
    assert config["ABANDON_GRACE_S"] == 20.0  # environment over the instance file
    assert config["RECONCILE_S"] == 1.0  # the mapping over everything
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'pavilion.sqlite'}"
    assert config["BACKGROUND_TASKS"] is False  # threading mode: no loop unless asked


def test_unknown_variables_are_ignored_but_credentials_kept(tmp_path: Path) -> None:
    env = {
        "PAVILION_INSTANCE_PATH": str(tmp_path),
        "PAVILION_SECRET_KEY": "s",
        "PAVILION_COLOUR": "red",
        "PAVILION_PROLIFIC_TOKEN": "t",
        "PAVILION_TEST_DATABASE_URL": "postgresql://x",
    }
    config = load_config(environ=env)
    assert "COLOUR" not in config and config["PROLIFIC_TOKEN"] == "t" and "TEST_DATABASE_URL" not in config


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAVILION_ENV": "staging"}, "PAVILION_ENV must be development, production or testing"),
        ({"PAVILION_ENV": "production"}, "PAVILION_SECRET_KEY must be set"),
        ({"PAVILION_ABANDON_GRACE_S": "-1"}, "PAVILION_ABANDON_GRACE_S must be > 0"),
        ({"PAVILION_QUEUE_REFRESH_S": "0"}, "PAVILION_QUEUE_REFRESH_S must be > 0"),
        ({"PAVILION_AUTO_MIGRATE": "perhaps"}, "PAVILION_AUTO_MIGRATE must be true/false"),
        ({"PAVILION_MAX_CONTENT_LENGTH": "1e6"}, "PAVILION_MAX_CONTENT_LENGTH must be int"),
        ({"PAVILION_ASYNC_MODE": "tornado"}, "PAVILION_ASYNC_MODE must be gevent, threading or eventlet"),
        ({"PAVILION_MAX_WORKERS_CONNECTED": "many"}, "PAVILION_MAX_WORKERS_CONNECTED must be int"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config(environ={"PAVILION_INSTANCE_PATH": str(tmp_path), **env})


def test_production_does_not_create_an_instance_folder(tmp_path: Path) -> None:
    env = {
        "PAVILION_INSTANCE_PATH": str(tmp_path / "missing"),
        "PAVILION_ENV": "production",
        "PAVILION_SECRET_KEY": "from-the-vault",
        "PAVILION_DATABASE_URL": "postgresql+psycopg://db/pavilion",
    }
    config = load_config(environ=env)
    assert config["SECRET_KEY"] == "from-the-vault" and not (tmp_path / "missing").exists()
