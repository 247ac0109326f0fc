"""The project form: field checks, the queue sizes as a whole through QueueConfig, errors on the right field."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from pavilion.runtime.admin.forms import ProjectForm
from pavilion.runtime.admin.project_data import field_for, form_to_data
from pavilion.runtime.projects import parse_project

GOOD = {
    "name": "Robot teleoperation", "description": "Drive the robot together.", "policy": "pavilion",
    "min_active": "2", "max_active": "3", "min_waiting": "1", "max_waiting": "3", "platform": "local",
    "platform_settings": "", "reward": "0.50", "waiting_wage_per_hour": "6", "active_wage_per_hour": "9.00",
    "task_url": "", "max_waiting_s": "600",
}


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    with app.test_request_context(method="POST"):
        yield app


def form(**changes: Any) -> ProjectForm:
    data = MultiDict({**GOOD, **changes})
    f = ProjectForm(formdata=data)
    f.set_choices(["on-demand", "pavilion"], ["local"])
    return f


def test_a_good_form_validates_and_parses(app: Flask) -> None:
    f = form()
    assert f.validate(), f.errors
    spec = parse_project(form_to_data(f))
    assert (spec.queues.min_active, spec.queues.max_waiting) == (2, 3)
    assert {k: Decimal(v) for k, v in spec.pay.items()} == {
        "reward": Decimal("0.5"), "waiting_wage_per_hour": Decimal(6), "active_wage_per_hour": Decimal(9)
    }
    assert spec.task["max_waiting_s"] == 600


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"max_active": "1"}, "max_active", "max_active (1) must be >= min_active (2)"),
        ({"min_active": "0", "max_active": "0"}, "min_active", "min_active must be >= 1"),
        ({"max_waiting": "0"}, "max_waiting", "max_waiting (0) must be >= min_waiting (1)"),
        ({"min_waiting": "-1"}, "min_waiting", "Number must be"),
        ({"max_waiting": "two"}, "max_waiting", "Not a valid integer"),
        ({"reward": "-0.01"}, "reward", "Number must be"),
        ({"waiting_wage_per_hour": "abc"}, "waiting_wage_per_hour", "Not a valid decimal"),
        ({"policy": "fastest"}, "policy", "Not a valid choice"),
        ({"platform": "upwork"}, "platform", "Not a valid choice"),
        ({"name": ""}, "name", "required"),
        ({"task_url": "not a url"}, "task_url", "Invalid URL"),
        ({"platform_settings": "{oops"}, "platform_settings", "not valid JSON"),
        ({"platform_settings": "[1, 2]"}, "platform_settings", "must be a JSON object"),
    ],
)
def test_bad_input_is_reported_on_its_field(app: Flask, changes: dict[str, str], field: str, fragment: str) -> None:
    f = form(**changes)
    assert not f.validate()
    assert any(fragment in message for message in getattr(f, field).errors), f.errors


def test_platform_settings_are_checked_by_the_platform(app: Flask) -> None:
    # Valid JSON, but the local adapter refuses it: the form reports it on its field with the other errors.
    f = form(platform_settings='{"roster": "not a list"}')
    assert not f.validate()
    assert any("platform.roster" in message for message in f.platform_settings.errors), f.errors
    good = form(platform_settings='{"roster": ["ann", "bob"]}')
    assert good.validate(), good.errors
    assert parse_project(form_to_data(good))


@pytest.mark.parametrize(
    ("message", "field"),
    [("policy.max_active (1) must be >= min_active (2)", "max_active"), ("policy.name must be one of", "policy"),
     ("pay.reward must be between 0 and 1000", "reward"), ("task.url must be an http(s) URL", "task_url"),
     ("platform.name must be one of", "platform"),
     ("platform.foo is not a local platform setting", "platform_settings"),
     ("name must not be empty", "name")],
)
def test_service_messages_land_on_the_field_they_name(message: str, field: str) -> None:
    assert field_for(message) == field
